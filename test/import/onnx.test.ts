import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FlexqError } from '../../src/errors.js';
import { importOnnx } from '../../src/import/onnx/import-onnx.js';
import { toNumbers } from '../../src/ir/dtype.js';
import { verifyGraph } from '../../src/ir/verify.js';
import { encodeModel, floatInitializer, tensorInput } from '../helpers/onnx-fixtures.js';
import { model } from '../helpers/shared.js';

const importFile = (rel: string, inputShape?: (number | string)[]) => importOnnx(readFileSync(model(rel)), rel, { inputShape });

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return e instanceof FlexqError ? e.code : `not a FlexqError: ${(e as Error).message}`;
  }
  return undefined;
}

describe('importOnnx on the shared models', () => {
  it.each([
    ['resnet8-cifar10/float.onnx', 'T0', [1, 3, 32, 32], [1, 10]],
    ['dscnn-kws/float.onnx', 'T0', [1, 1, 49, 10], [1, 12]],
    ['mnist-8/model.onnx', 'Input3', [1, 1, 28, 28], [1, 10]],
    ['mobilenetv2-imagenet/float-from-int8.onnx', 'T12', [1, 3, 224, 224], [1, 1000]],
  ])('%s imports and verifies', (rel, input, inShape, outShape) => {
    const g = importFile(rel);
    expect(verifyGraph(g)).toEqual([]);
    expect(g.inputs).toEqual([input]);
    expect(g.values.get(input)!.shape).toEqual(inShape);
    expect(g.values.get(g.outputs[0])!.shape).toEqual(outShape);
  });

  it('mnist-8 (opset 8, IR 3): initializers listed as graph inputs are constants, typed float_data is read, auto_pad SAME_UPPER is resolved', () => {
    const g = importFile('mnist-8/model.onnx');
    expect(g.inputs).toEqual(['Input3']);
    expect(g.values.get('Parameter5')!.data).toBeInstanceOf(Float32Array);
    const conv = g.nodes.find((n) => n.op === 'Conv')!;
    expect(conv.attrs.pads).toEqual([2, 2, 2, 2]);
    expect(g.values.get(conv.outputs[0])!.shape).toEqual([1, 8, 28, 28]);
  });

  it('ppocr-cls (opset 9, Constant nodes, attribute-form Clip) takes its dynamic dims from inputShape', () => {
    const g = importFile('ppocr-cls/model.onnx', ['N', 3, 48, 192]);
    expect(verifyGraph(g)).toEqual([]);
    expect(g.nodes.filter((n) => n.op === 'BatchNormalization')).toHaveLength(35);
    const clip = g.nodes.find((n) => n.op === 'Clip')!;
    expect([clip.attrs.min, clip.attrs.max]).toEqual([0, 6]);
    expect(codeOf(() => importFile('ppocr-cls/model.onnx', [1, 3, 48]))).toBe('BAD_ARGUMENT');
    expect(codeOf(() => importFile('resnet8-cifar10/float.onnx', [1, 3, 64, 64]))).toBe('BAD_ARGUMENT');
  });

  it('MobileNetV2 (opset 13): input-form Clip becomes attributes', () => {
    const clip = importFile('mobilenetv2-imagenet/float-from-int8.onnx').nodes.find((n) => n.op === 'Clip')!;
    expect([clip.attrs.min, clip.attrs.max]).toEqual([0, 6]);
  });
});

describe('importOnnx on models made by code', () => {
  const conv = (opset: number, attrs: { name: string; type: number; ints?: number[]; s?: Uint8Array }[]) =>
    encodeModel({
      name: 'g',
      input: [tensorInput('x', [1, 1, 5, 5])],
      output: [{ name: 'y' }],
      initializer: [floatInitializer('w', [2, 1, 3, 3], Array(18).fill(0.5))],
      node: [{ name: 'c', opType: 'Conv', input: ['x', 'w'], output: ['y'], attribute: attrs }],
    }, opset);

  it('resolves auto_pad and strides into explicit pads', () => {
    const g = importOnnx(conv(13, [{ name: 'auto_pad', type: 3, s: new TextEncoder().encode('SAME_LOWER') }, { name: 'strides', type: 7, ints: [2, 2] }]), 'm');
    expect(g.nodes[0].attrs.pads).toEqual([1, 1, 1, 1]);
    expect(g.values.get('y')!.shape).toEqual([1, 2, 3, 3]);
  });

  it('rejects opsets outside 6–21 with the range in the message', () => {
    expect(codeOf(() => importOnnx(conv(5, []), 'm'))).toBe('MODEL_INVALID');
    expect(codeOf(() => importOnnx(conv(22, []), 'm'))).toBe('MODEL_INVALID');
  });

  it('turns Slice-1 attributes into the IR input form', () => {
    const bytes = encodeModel({
      name: 'g',
      input: [tensorInput('x', [1, 8])],
      output: [{ name: 'y' }],
      node: [{ name: 's', opType: 'Slice', input: ['x'], output: ['y'], attribute: [{ name: 'starts', type: 7, ints: [2] }, { name: 'ends', type: 7, ints: [6] }, { name: 'axes', type: 7, ints: [1] }] }],
    }, 9);
    const g = importOnnx(bytes, 'm');
    expect(g.values.get('y')!.shape).toEqual([1, 4]);
    expect(toNumbers(g.values.get(g.nodes[0].inputs[1])!.data!)).toEqual([2]);
  });
});
