import type pkg from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { FlexqError } from '../../src/errors.js';
import { importOnnx } from '../../src/import/onnx/import-onnx.js';
import { verifyGraph } from '../../src/ir/verify.js';
import { optimizeGraph } from '../../src/passes/pipeline.js';
import { randomFloats } from '../helpers/graphs.js';
import { encodeModel, floatInitializer, tensorInput } from '../helpers/onnx-fixtures.js';
import { toNumbers } from '../../src/ir/dtype.js';
import { OnnxNet, floatAgreement as agreement, float, floats, int, int64Initializer, ints, str } from '../helpers/onnx-net.js';

/** What the classic ONNX-zoo CNNs (AlexNet, VGG, SqueezeNet, GoogLeNet, ResNet-50, DenseNet) need of the importer, on models made by code. */

function errorOf(f: () => unknown): FlexqError {
  try {
    f();
  } catch (e) {
    if (e instanceof FlexqError) return e;
    throw e;
  }
  throw new Error('expected a FlexqError');
}


describe('refusals of unsupported ops stay readable', () => {
  it('groups hundreds of unsupported nodes by op type in at most five lines, and says which read only constants', () => {
    const node: pkg.onnx.INodeProto[] = [];
    for (let i = 0; i < 300; i++) node.push({ opType: 'NonZero', input: ['w'], output: [`e${i}`] });
    for (let i = 0; i < 200; i++) node.push({ name: `lpn_${i}`, opType: 'LpNormalization', input: ['x'], output: [`l${i}`] });
    node.push({ name: 'trilu', opType: 'Trilu', input: ['x', 's'], output: ['t'] });
    node.push({ name: 'celu', opType: 'Celu', input: ['x'], output: ['c'] });
    node.push({ name: 'y', opType: 'Relu', input: ['x'], output: ['y'] });
    const bytes = encodeModel({
      name: 'g',
      input: [tensorInput('x', [1, 4])],
      output: [{ name: 'y' }],
      initializer: [floatInitializer('w', [1], [1]), int64Initializer('s', [1, 4])],
      node,
    });
    const e = errorOf(() => importOnnx(bytes, 'many.onnx'));
    expect(e.code).toBe('UNSUPPORTED_OP');
    const lines = e.message.split('\n');
    expect(lines.length).toBeLessThanOrEqual(5);
    expect(lines[0]).toContain('many.onnx: 502 node(s) use 4 operator(s) flexq does not support');
    expect(lines[1]).toBe("  NonZero ×300 ('#0', '#1', '#2', …); 300 of 300 read only constants: foldable once flexq evaluates NonZero");
    expect(lines[2]).toBe("  LpNormalization ×200 ('lpn_0', 'lpn_1', 'lpn_2', …)");
    expect(lines[3]).toBe('  and 2 more op type(s): Celu ×1, Trilu ×1');
    expect(lines[4]).toMatch(/^Supported: Constant, .*ConstantOfShape.*Dropout.*Mean.*Sum/);
  });

  it('names a lone unsupported node with its op', () => {
    const bytes = encodeModel({
      name: 'g',
      input: [tensorInput('x', [1, 4])],
      output: [{ name: 'y' }],
      node: [{ name: 'weird', opType: 'Einsum', input: ['x'], output: ['y'] }],
    });
    expect(errorOf(() => importOnnx(bytes, 'one.onnx')).message.split('\n')[1]).toBe("  'weird' (Einsum)");
  });
});

describe('inference no-ops and variadic ops run like onnxruntime', () => {
  const chain = (opset: number, dropout: pkg.onnx.INodeProto): Uint8Array => encodeModel({
    name: 'g',
    input: [tensorInput('x', [2, 3, 4, 4])],
    output: [{ name: 'y' }],
    initializer: [floatInitializer('w1', [3, 1, 1], [0.5, -1, 2]), floatInitializer('w2', [4], [1, 2, 3, 4]), floatInitializer('w3', [1], [-0.25])],
    node: [
      dropout,
      { name: 'sum', opType: 'Sum', input: ['d', 'w1', 'x', 'w2'], output: ['s'] },
      { name: 'mean', opType: 'Mean', input: ['s', 'x', 'w3'], output: ['m'] },
      { name: 'sum1', opType: 'Sum', input: ['m'], output: ['y'] },
    ],
  }, opset);

  it('Dropout (mask unused) is the identity, Sum is a chain of Add, Mean is Sum · 1/n', async () => {
    const bytes = chain(13, { name: 'drop', opType: 'Dropout', input: ['x'], output: ['d', 'mask'] });
    const g = importOnnx(bytes, 'm.onnx');
    expect(verifyGraph(g)).toEqual([]);
    expect(g.nodes.map((n) => n.op)).toEqual(['Identity', 'Add', 'Add', 'Add', 'Add', 'Add', 'Mul', 'Identity']);
    expect(await agreement(bytes, [2, 3, 4, 4])).toBeLessThan(1e-4);
  });

  it('Dropout-12 with a constant false training_mode imports; with a read mask it is refused', async () => {
    const withTraining = encodeModel({
      name: 'g',
      input: [tensorInput('x', [2, 3])],
      output: [{ name: 'y' }],
      initializer: [{ name: 'ratio', dataType: 1, dims: [], floatData: [0.5] }, { name: 'train', dataType: 9, dims: [], int32Data: [0] }],
      node: [{ name: 'drop', opType: 'Dropout', input: ['x', 'ratio', 'train'], output: ['y'] }],
    });
    expect(await agreement(withTraining, [2, 3])).toBe(0);
    const maskRead = encodeModel({
      name: 'g',
      input: [tensorInput('x', [2, 3])],
      output: [{ name: 'y' }, { name: 'mask' }],
      node: [{ name: 'drop', opType: 'Dropout', input: ['x'], output: ['y', 'mask'] }],
    });
    const e = errorOf(() => importOnnx(maskRead, 'm.onnx'));
    expect(e.code).toBe('UNSUPPORTED_ATTR');
    expect(e.message).toContain("m.onnx: node 'drop' (Dropout): its mask output 'mask' is read");
  });
});

describe('constant subgraphs fold', () => {
  const value: pkg.onnx.IAttributeProto = { name: 'value', type: 4, t: { dataType: 1, dims: [1], floatData: [0.75] } };
  const shapeConst: pkg.onnx.IAttributeProto = { name: 'value', type: 4, t: { dataType: 7, dims: [4], int64Data: [1, 3, 1, 4] } };

  it('Constant → ConstantOfShape → Add and initializer → ConstantOfShape → Add fold to constants and run like onnxruntime', async () => {
    const bytes = encodeModel({
      name: 'g',
      input: [tensorInput('x', [2, 3, 4, 4])],
      output: [{ name: 'y' }],
      initializer: [int64Initializer('s', [3, 1, 1])],
      node: [
        { name: 'shape', opType: 'Constant', output: ['cs'], attribute: [shapeConst] },
        { name: 'fill', opType: 'ConstantOfShape', input: ['cs'], output: ['c'], attribute: [value] },
        { name: 'fill2', opType: 'ConstantOfShape', input: ['s'], output: ['z'] },
        { name: 'add', opType: 'Add', input: ['x', 'c'], output: ['a'] },
        { name: 'add2', opType: 'Add', input: ['a', 'z'], output: ['y'] },
      ],
    });
    const g = optimizeGraph(importOnnx(bytes, 'm.onnx'));
    expect(g.nodes.map((n) => n.op)).not.toContain('ConstantOfShape');
    expect(await agreement(bytes, [2, 3, 4, 4])).toBeLessThan(1e-4);
  });

  /** PyTorch's flatten: Reshape(x, Concat(Unsqueeze(Gather(Shape(x), 0)), [-1])). */
  const torchFlatten = (net: OnnxNet, x: string) => {
    const batch = net.op('Unsqueeze', [net.op('Gather', [net.op('Shape', [x]), net.int64([0], [])]), net.int64([0])]);
    return net.op('Reshape', [x, net.op('Concat', [batch, net.int64([-1])], [int('axis', 0)])]);
  };

  it('every node computable from constants and static shapes is evaluated at import (Shape, Gather, Unsqueeze, Concat, Range, Cast, Mul, Tile, Expand)', async () => {
    const net = new OnnxNet([2, 3, 4, 4]);
    const ramp = net.op('Mul', [net.op('Cast', [net.op('Range', [net.int64([0], []), net.int64([48], []), net.int64([1], [])])], [int('to', 1)]), net.weight([1], 0.01, 0.02)]);
    const tiled = net.op('Tile', [net.weight([1, 24]), net.int64([1, 2])]);
    const expanded = net.op('Expand', [net.weight([1]), net.int64([1, 48])]);
    const bytes = net.bytes(net.op('Add', [net.op('Add', [net.op('Add', [torchFlatten(net, 'x'), ramp]), tiled]), expanded]));
    const imported = importOnnx(bytes, 'm.onnx');
    expect(imported.nodes.map((n) => n.op)).toEqual(['Reshape', 'Add', 'Add', 'Add', 'Identity']);
    expect(toNumbers(imported.values.get(imported.nodes[0].inputs[1])!.data!)).toEqual([2, -1]);
    expect(await agreement(bytes, [2, 3, 4, 4])).toBeLessThan(1e-4);
  });

  it('with a symbolic batch, the pass turns PyTorch\'s flatten into Reshape(x, [0, -1])', async () => {
    const net = new OnnxNet(['N', 3, 4, 4]);
    const bytes = net.bytes(torchFlatten(net, 'x'));
    const g = optimizeGraph(importOnnx(bytes, 'm.onnx'));
    const reshape = g.nodes.find((n) => n.op === 'Reshape')!;
    expect(g.nodes.map((n) => n.op).filter((op) => op !== 'Identity')).toEqual(['Reshape']);
    expect(toNumbers(g.values.get(reshape.inputs[1])!.data!)).toEqual([0, -1]);
    expect(await agreement(bytes, [3, 3, 4, 4])).toBeLessThan(1e-4);
  });

  it('a rule that needs a constant operand accepts one computed from constants (Pad-11 pads from a Concat)', async () => {
    const net = new OnnxNet([1, 2, 5, 5]);
    const pads = net.op('Concat', [net.int64([0, 0, 1, 2]), net.int64([0, 0, 2, 1])], [int('axis', 0)]);
    expect(await agreement(net.bytes(net.op('Pad', ['x', pads])), [1, 2, 5, 5])).toBeLessThan(1e-4);
  });

  it('PyTorch\'s opset-11 interpolate (Resize sizes from Shape, Slice, Cast, Mul, Floor, Sqrt, Concat) folds and runs like onnxruntime', async () => {
    const net = new OnnxNet([1, 3, 4, 5], 11);
    const h = net.conv('x', 3, 4, 1);
    const dims = net.op('Shape', [h]);
    const slice = (from: number, to: number) => net.op('Slice', [dims, net.int64([from]), net.int64([to])]);
    const scales = net.op('Sqrt', [net.float32([4, 6.25])]);
    const spatial = net.op('Cast', [net.op('Floor', [net.op('Mul', [net.op('Cast', [slice(2, 4)], [int('to', 1)]), scales])])], [int('to', 7)]);
    const sizes = net.op('Concat', [slice(0, 2), spatial], [int('axis', 0)]);
    const attrs = [str('mode', 'nearest'), str('coordinate_transformation_mode', 'asymmetric'), str('nearest_mode', 'floor')];
    const empty = net.float32([], [0]);
    const bytes = net.bytes(net.op('Resize', [h, empty, empty, sizes], attrs));
    const imported = importOnnx(bytes, 'm.onnx');
    expect(imported.nodes.map((n) => n.op)).toEqual(['Conv', 'Resize', 'Identity']);
    expect(imported.values.get('y')!.shape).toEqual([1, 4, 8, 12]);
    expect(await agreement(bytes, [1, 3, 4, 5])).toBeLessThan(1e-4);
  });

  it('ConstantOfShape of a shape computed at run time is refused with what to do', () => {
    const bytes = encodeModel({
      name: 'g',
      input: [tensorInput('x', ['N', 3])],
      output: [{ name: 'y' }],
      node: [
        { name: 'shape', opType: 'Shape', input: ['x'], output: ['xs'] },
        { name: 'fill', opType: 'ConstantOfShape', input: ['xs'], output: ['y'], attribute: [value] },
      ],
    });
    const e = errorOf(() => importOnnx(bytes, 'm.onnx'));
    expect(e.message).toContain("m.onnx: node 'fill' (ConstantOfShape): the shape input is computed at run time");
  });
});

describe('opsets 6 and 7 import where their ops mean what opset 8 means', () => {
  const convBias = (opset: number, add: pkg.onnx.INodeProto, bias: number[], extra: pkg.onnx.INodeProto[] = []): Uint8Array => encodeModel({
    name: 'g',
    input: [tensorInput('x', [1, 2, 5, 5])],
    output: [{ name: 'y' }],
    initializer: [
      floatInitializer('w', [3, 2, 3, 3], [...randomFloats(54, 3)]),
      floatInitializer('b', bias, [0.5, -1, 2]),
      ...['g', 'beta', 'mean'].map((n, k) => floatInitializer(n, [3], [1 + k, 0.5 * k, -k])),
      floatInitializer('var', [3], [1, 2, 0.5]),
    ],
    node: [
      { name: 'conv', opType: 'Conv', input: ['x', 'w'], output: ['c'], attribute: [ints('pads', [1, 1, 1, 1])] },
      add,
      ...extra,
    ],
  }, opset);

  it('opset-6 Add with broadcast=1 at axis 1 aligns B like opset 7 does with B shaped [C, 1, 1]', async () => {
    const legacy = convBias(6, { name: 'add', opType: 'Add', input: ['c', 'b'], output: ['y'], attribute: [int('broadcast', 1), int('axis', 1)] }, [3]);
    const numpy = convBias(7, { name: 'add', opType: 'Add', input: ['c', 'b'], output: ['y'] }, [3, 1, 1]);
    expect(await agreement(legacy, [1, 2, 5, 5], numpy)).toBeLessThan(1e-4);
  });

  it('opset-6 BatchNormalization (is_test=1, spatial=1) and Dropout (is_test=1) import; spatial=0 is refused', async () => {
    const bn = (spatial: number): pkg.onnx.INodeProto => ({ name: 'bn', opType: 'BatchNormalization', input: ['c', 'g', 'beta', 'mean', 'var'], output: ['n'], attribute: [int('is_test', 1), int('spatial', spatial)] });
    const drop: pkg.onnx.INodeProto = { name: 'drop', opType: 'Dropout', input: ['n'], output: ['y'], attribute: [int('is_test', 1)] };
    const legacy = convBias(6, bn(1), [3], [drop]);
    const g = importOnnx(legacy, 'm.onnx');
    expect(verifyGraph(g)).toEqual([]);
    const modern = convBias(9, { ...bn(1), attribute: [] }, [3], [{ ...drop, attribute: [] }]);
    expect(await agreement(legacy, [1, 2, 5, 5], modern)).toBeLessThan(1e-4);
    const e = errorOf(() => importOnnx(convBias(7, bn(0), [3], [drop]), 'm.onnx'));
    expect(e.code).toBe('UNSUPPORTED_ATTR');
    expect(e.message).toContain("m.onnx: node 'bn' (BatchNormalization): spatial=0");
  });

  it('still refuses opset 5 with the supported range', () => {
    const e = errorOf(() => importOnnx(convBias(5, { name: 'add', opType: 'Add', input: ['c', 'b'], output: ['y'] }, [3]), 'm.onnx'));
    expect(e.code).toBe('MODEL_INVALID');
    expect(e.message).toContain('flexq imports opsets 6–21');
  });

  it('opset-10 Pad keeps pads, mode and value as attributes (the Pad-2 form)', async () => {
    for (const attrs of [[ints('pads', [0, 0, 1, 2, 0, 0, 2, 1]), float('value', 1.5)], [ints('pads', [0, 0, 2, 1, 0, 0, 1, 2]), str('mode', 'reflect')]]) {
      const net = new OnnxNet([1, 2, 5, 5], 10);
      expect(await agreement(net.bytes(net.op('Pad', [net.conv('x', 2, 3, 1)], attrs)), [1, 2, 5, 5])).toBeLessThan(1e-4);
    }
  });

  it('Upsample becomes Resize with asymmetric coordinates: scales as an attribute (opset 7) or an input (opset 9), nearest and linear', async () => {
    for (const mode of ['nearest', 'linear']) {
      const v7 = new OnnxNet([1, 2, 3, 4], 7);
      const up7 = v7.bytes(v7.op('Upsample', [v7.conv('x', 2, 3, 1)], [floats('scales', [1, 1, 2, 3]), str('mode', mode)]));
      expect(optimizeGraph(importOnnx(up7, 'm.onnx')).nodes.map((n) => n.op)).toContain('Resize');
      expect(await agreement(up7, [1, 2, 3, 4])).toBeLessThan(1e-4);
      const v9 = new OnnxNet([1, 2, 3, 4], 9);
      // Scales computed from initializers, as some exporters write them: folded at import.
      const scales = v9.op('Add', [v9.float32([1, 1, 1, 1]), v9.float32([0, 0, 1, 2])]);
      const up9 = v9.bytes(v9.op('Upsample', [v9.conv('x', 2, 3, 1), scales], [str('mode', mode)]));
      expect(await agreement(up9, [1, 2, 3, 4])).toBeLessThan(1e-4);
    }
  });
});
