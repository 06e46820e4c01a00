// One small randomly initialised model per classic-CNN pattern, built in code: flexq's float executor matches
// onnxruntime-node within 1e-4 relative error on a seeded random input.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { encodeNpyFloat32 } from '../../src/api/npy.js';
import { importOnnx } from '../../src/import/onnx/import-onnx.js';
import { optimizeGraph } from '../../src/passes/pipeline.js';
import { flexq } from '../helpers/cli.js';
import { randomFloats } from '../helpers/graphs.js';
import { OnnxNet, float, floatAgreement, int, ints, str } from '../helpers/onnx-net.js';
import { relativeMaxError } from '../helpers/shared.js';

const pool = (net: OnnxNet, op: 'MaxPool' | 'AveragePool', x: string, k: number, stride: number, pad = 0) =>
  net.op(op, [x], [ints('kernel_shape', [k, k]), ints('strides', [stride, stride]), ints('pads', [pad, pad, pad, pad])]);
const relu = (net: OnnxNet, x: string) => net.op('Relu', [x]);
const opsOf = (bytes: Uint8Array) => optimizeGraph(importOnnx(bytes, 'm.onnx')).nodes.map((n) => n.op);

/** AlexNet/ZFNet in small: conv → relu → LRN → max pool twice, then dense layers with dropout; input [N,3,19,19], 5 classes. */
function alexNet(): Uint8Array {
  const net = new OnnxNet(['N', 3, 19, 19]);
  let h = net.op('LRN', [relu(net, net.conv('x', 3, 8, 5, { pad: 2, stride: 2 }))], [int('size', 5), float('alpha', 0.01), float('beta', 0.75), float('bias', 2)]);
  h = pool(net, 'MaxPool', h, 3, 2);
  h = net.op('LRN', [relu(net, net.conv(h, 8, 12, 3, { pad: 1 }))], [int('size', 3), float('alpha', 0.02)]);
  h = net.op('Flatten', [pool(net, 'MaxPool', h, 2, 2)]);
  h = net.node('Dropout', [relu(net, net.gemm(h, 48, 16))], [], 2)[0];
  return net.bytes(net.gemm(h, 16, 5));
}

describe('classic CNN patterns run like onnxruntime', () => {
  it('AlexNet/ZFNet: conv → relu → LRN → max pool, then dropout and dense layers', async () => {
    const bytes = alexNet();
    expect(opsOf(bytes)).toContain('LRN');
    expect(await floatAgreement(bytes, [2, 3, 19, 19])).toBeLessThan(1e-4);
  });

  it('`flexq run --executor float` on the AlexNet model gives onnxruntime\'s scores', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flexq-classics-'));
    try {
      const x = randomFloats(3 * 3 * 19 * 19, 5).map((v) => 3 * v);
      writeFileSync(join(dir, 'alexnet.onnx'), alexNet());
      writeFileSync(join(dir, 'x.npy'), encodeNpyFloat32([3, 3, 19, 19], x));
      const r = await flexq('run', join(dir, 'alexnet.onnx'), '--data', join(dir, 'x.npy'), '--executor', 'float', '--json');
      expect(r.code, r.stderr).toBe(0);
      const got = Float32Array.from((JSON.parse(r.stdout).samples as { scores: number[] }[]).flatMap((s) => s.scores));
      const session = await ort.InferenceSession.create(alexNet());
      const want = (await session.run({ x: new ort.Tensor('float32', x, [3, 3, 19, 19]) })).y.data as Float32Array;
      await session.release();
      expect(got).toHaveLength(15);
      expect(relativeMaxError(got, want)).toBeLessThan(1e-4);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('VGG: stacks of 3×3 conv + relu, max pools, a dense head', async () => {
    const net = new OnnxNet([1, 3, 16, 16]);
    let h = 'x';
    let c = 3;
    for (const width of [8, 16]) {
      h = relu(net, net.conv(relu(net, net.conv(h, c, width, 3, { pad: 1 })), width, width, 3, { pad: 1 }));
      h = pool(net, 'MaxPool', h, 2, 2);
      c = width;
    }
    h = net.op('Flatten', [h]);
    expect(await floatAgreement(net.bytes(net.gemm(relu(net, net.gemm(h, 256, 32)), 32, 10)), [1, 3, 16, 16])).toBeLessThan(1e-4);
  });

  it('SqueezeNet: fire modules (squeeze 1×1, expand 1×1 and 3×3, concat)', async () => {
    const net = new OnnxNet([1, 3, 15, 15]);
    const fire = (x: string, cin: number, squeeze: number, expand: number) => {
      const s = relu(net, net.conv(x, cin, squeeze, 1));
      return net.op('Concat', [relu(net, net.conv(s, squeeze, expand, 1)), relu(net, net.conv(s, squeeze, expand, 3, { pad: 1 }))], [int('axis', 1)]);
    };
    let h = pool(net, 'MaxPool', relu(net, net.conv('x', 3, 8, 3, { stride: 2 })), 3, 2);
    h = fire(fire(h, 8, 4, 8), 16, 4, 8);
    h = net.op('GlobalAveragePool', [net.conv(h, 16, 6, 1)]);
    expect(await floatAgreement(net.bytes(net.op('Flatten', [h])), [1, 3, 15, 15])).toBeLessThan(1e-4);
  });

  it('GoogLeNet: inception blocks (1×1, 3×3, 5×5 and pool branches concatenated), a spatial ReduceMean head', async () => {
    const net = new OnnxNet([1, 4, 12, 12]);
    const inception = (x: string, cin: number) => net.op('Concat', [
      relu(net, net.conv(x, cin, 4, 1)),
      relu(net, net.conv(relu(net, net.conv(x, cin, 3, 1)), 3, 6, 3, { pad: 1 })),
      relu(net, net.conv(relu(net, net.conv(x, cin, 2, 1)), 2, 3, 5, { pad: 2 })),
      relu(net, net.conv(pool(net, 'MaxPool', x, 3, 1, 1), cin, 3, 1)),
    ], [int('axis', 1)]);
    let h = net.op('LRN', [relu(net, net.conv('x', 4, 8, 3, { pad: 1 }))], [int('size', 5)]);
    h = inception(pool(net, 'MaxPool', inception(h, 8), 3, 2, 1), 16);
    h = net.op('ReduceMean', [h], [ints('axes', [2, 3]), int('keepdims', 0)]);
    expect(await floatAgreement(net.bytes(net.gemm(h, 16, 7)), [1, 4, 12, 12])).toBeLessThan(1e-4);
  });

  it('ResNet-50 (opset 8 export): bottleneck blocks joined by Sum, a strided 1×1 shortcut', async () => {
    const net = new OnnxNet([1, 8, 10, 10], 8);
    const block = (x: string, cin: number, mid: number, cout: number, stride: number) => {
      let r = relu(net, net.batchNorm(net.conv(x, cin, mid, 1), mid));
      r = relu(net, net.batchNorm(net.conv(r, mid, mid, 3, { pad: 1, stride }), mid));
      r = net.batchNorm(net.conv(r, mid, cout, 1), cout);
      const shortcut = cin === cout && stride === 1 ? x : net.batchNorm(net.conv(x, cin, cout, 1, { stride }), cout);
      return relu(net, net.op('Sum', [shortcut, r]));
    };
    const h = block(block(block('x', 8, 4, 16, 1), 16, 4, 16, 1), 16, 8, 24, 2);
    const bytes = net.bytes(net.gemm(net.op('Flatten', [net.op('GlobalAveragePool', [h])]), 24, 10));
    expect(opsOf(bytes)).not.toContain('BatchNormalization');
    expect(await floatAgreement(bytes, [1, 8, 10, 10])).toBeLessThan(1e-4);
  });

  it('ShuffleNet: grouped 1×1 conv, channel shuffle (Reshape → Transpose → Reshape), depthwise 3×3, avg-pool shortcut concat', async () => {
    const net = new OnnxNet([1, 8, 8, 8]);
    const shuffle = (x: string, groups: number, c: number, hw: number) => {
      const split = net.op('Reshape', [x, net.int64([1, groups, c / groups, hw, hw])]);
      return net.op('Reshape', [net.op('Transpose', [split], [ints('perm', [0, 2, 1, 3, 4])]), net.int64([1, c, hw, hw])]);
    };
    let h = relu(net, net.conv('x', 8, 8, 1, { group: 2 }));
    h = net.conv(shuffle(h, 2, 8, 8), 8, 8, 3, { pad: 1, stride: 2, group: 8 });
    h = net.conv(h, 8, 8, 1, { group: 2 });
    h = relu(net, net.op('Concat', [pool(net, 'AveragePool', 'x', 3, 2, 1), h], [int('axis', 1)]));
    const bytes = net.bytes(shuffle(h, 4, 16, 4));
    expect(opsOf(bytes)).toContain('Transpose');
    expect(await floatAgreement(bytes, [1, 8, 8, 8])).toBeLessThan(1e-4);
  });

  it('DenseNet: a dense block (each layer reads the concat of all before it), then a transition (BN, relu, 1×1 conv, avg pool)', async () => {
    const net = new OnnxNet([1, 6, 8, 8], 9);
    const features = ['x'];
    let c = 6;
    for (let layer = 0; layer < 3; layer++) {
      const input = features.length === 1 ? 'x' : net.op('Concat', features, [int('axis', 1)]);
      features.push(net.conv(relu(net, net.batchNorm(input, c)), c, 4, 3, { pad: 1 }));
      c += 4;
    }
    const all = net.op('Concat', features, [int('axis', 1)]);
    const h = pool(net, 'AveragePool', net.conv(relu(net, net.batchNorm(all, c)), c, 9, 1), 2, 2);
    expect(await floatAgreement(net.bytes(h), [1, 6, 8, 8])).toBeLessThan(1e-4);
  });

  it('activations: PRelu (per-channel slope), LeakyRelu, Elu, Tanh, variadic Max and Min', async () => {
    const net = new OnnxNet([2, 4, 6, 6]);
    const a = net.op('PRelu', [net.conv('x', 4, 6, 3, { pad: 1 }), net.weight([6, 1, 1], 0.5)]);
    const b = net.op('LeakyRelu', [net.conv(a, 6, 6, 3, { pad: 1 })], [float('alpha', 0.2)]);
    const c = net.op('Elu', [net.conv(b, 6, 6, 1)], [float('alpha', 0.7)]);
    const d = net.op('Tanh', [net.conv(c, 6, 6, 1)]);
    const m = net.op('Max', [a, b, c, d]);
    const bytes = net.bytes(net.op('Min', [m, net.weight([6, 1, 1], 0.5, 1), d]));
    expect(opsOf(bytes).filter((op) => op === 'Max' || op === 'Min')).toHaveLength(5);
    expect(await floatAgreement(bytes, [2, 4, 6, 6])).toBeLessThan(1e-4);
  });

  it('pixel shuffle: DepthToSpace (DCR and CRD) and SpaceToDepth between convolutions', async () => {
    const net = new OnnxNet([1, 3, 6, 6]);
    let h = net.op('DepthToSpace', [net.conv('x', 3, 12, 3, { pad: 1 })], [int('blocksize', 2)]);
    h = net.op('DepthToSpace', [net.conv(h, 3, 8, 3, { pad: 1 })], [int('blocksize', 2), str('mode', 'CRD')]);
    h = net.op('SpaceToDepth', [h], [int('blocksize', 4)]);
    expect(await floatAgreement(net.bytes(net.conv(h, 32, 5, 1)), [1, 3, 6, 6])).toBeLessThan(1e-4);
  });

  it('Split, Gather on constant indices, Tile, Expand and spatial ReduceMax/ReduceSum on run-time tensors', async () => {
    const net = new OnnxNet([2, 3, 4, 4]);
    const [a, b] = net.node('Split', ['x', net.int64([1, 2])], [int('axis', 1)], 2);
    const g = net.op('Gather', [b, net.int64([1, 0, 1], [3])], [int('axis', 1)]);
    const t = net.op('Tile', [a, net.int64([1, 3, 1, 1])]);
    const peak = net.op('ReduceMax', [net.op('Add', [g, t])], [ints('axes', [2, 3]), int('keepdims', 1)]);
    const total = net.op('ReduceSum', ['x', net.int64([-1, -2])], [int('keepdims', 1)]);
    const bytes = net.bytes(net.op('Mul', [net.op('Expand', [peak, net.int64([1, 3, 4, 4])]), net.op('Expand', [total, net.int64([3, 1, 1])])]));
    expect(await floatAgreement(bytes, [2, 3, 4, 4])).toBeLessThan(1e-4);
  });
});
