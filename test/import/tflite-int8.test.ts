// The TFLite converter's int8 models: imported into the QuantizedGraph (per-channel conv weights, int32 biases),
// run by flexq's integer runtime bit-exact with LiteRT.js running the file itself, in every tensor, on real data.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createIntegerRuntime } from '../../runtime/executor.js';
import { openData, readAllSamples } from '../../src/api/data.js';
import { defaultExecutor, openArtefact } from '../../src/api/executors.js';
import { evaluate, exportModel } from '../../src/index.js';
import { validate } from '../../src/api/validate.js';
import { importTfliteInt8 } from '../../src/import/tflite/import-tflite-int8.js';
import { readTfliteModel } from '../../src/import/tflite/reader.js';
import { dequantizeBias, dequantizeWeight, type QuantizedGraph } from '../../src/ir/quantized-graph.js';
import { decodeFq, encodeFq } from '../../src/quant/fq-file.js';
import { withFloatIo } from '../../targets/tflite/float-io.js';
import { openLiteRt } from '../../targets/tflite/litert.js';
import { flexq } from '../helpers/cli.js';
import { data, model } from '../helpers/shared.js';

interface Case {
  readonly name: string;
  readonly path: string;
  readonly data: { readonly path: string; readonly labels?: string; readonly preprocess: 'none' | 'imagenet' };
  /** Samples compared tensor by tensor (few for MobileNetV2: 300 M MACs each in the TS runtime). */
  readonly samples: number;
  readonly layers: { readonly weighted: number; readonly perChannel: number };
}

const CASES: readonly Case[] = [
  { name: 'ResNet-8', path: model('resnet8-cifar10/int8-reference.tflite'), data: { path: data('cifar10/test-200'), preprocess: 'none' }, samples: 8, layers: { weighted: 10, perChannel: 9 } },
  {
    name: 'DS-CNN',
    path: model('dscnn-kws/int8-reference.tflite'),
    data: { path: data('kws/features.npy'), labels: data('kws/labels.npy'), preprocess: 'none' },
    samples: 16,
    layers: { weighted: 10, perChannel: 9 },
  },
  { name: 'MobileNetV2', path: model('mobilenetv2-imagenet/int8-qat.tflite'), data: { path: data('imagenet-sample'), preprocess: 'imagenet' }, samples: 1, layers: { weighted: 53, perChannel: 52 } },
];

async function realInputs(c: Case, q: QuantizedGraph): Promise<Float32Array> {
  const shape = q.graph.values.get(q.graph.inputs[0])!.shape.slice(1) as number[];
  return readAllSamples(await openData(c.data.path, { preprocess: c.data.preprocess, labels: c.data.labels, limit: c.samples }, shape));
}

/**
 * Mismatched int8 values per operator output between LiteRT.js (the file itself, every operator output read through
 * DEQUANTIZE) and the runtime in tflite-xnnpack mode, for the operator outputs the imported graph keeps.
 */
async function tensorMismatches(c: Case, q: QuantizedGraph, inputs: Float32Array): Promise<{ tensors: number; values: number; mismatched: number }> {
  const bytes = readFileSync(c.path);
  const sg = readTfliteModel(bytes, c.path).subgraphs[0];
  const kept = [...new Set(sg.operators.map((op) => op.outputs[0]))].filter((t) => q.activations.has(sg.tensors[t].name) && q.graph.nodes.some((n) => n.outputs[0] === sg.tensors[t].name));
  const litert = await openLiteRt(withFloatIo(bytes, c.path, kept), c.path);
  const rt = createIntegerRuntime(q, 'tflite-xnnpack');
  const input = q.graph.inputs[0];
  const sample = q.graph.values.get(input)!.shape.slice(1) as number[];
  const size = inputs.length / c.samples;
  const tfliteInputIsNchw = sg.tensors[sg.inputs[0]].shape.slice(1).join() === sample.join();
  let [values, mismatched] = [0, 0];
  for (let s = 0; s < c.samples; s++) {
    const x = inputs.subarray(s * size, (s + 1) * size);
    const qx = rt.quantizeInput(x);
    const grid = q.activations.get(input)!;
    // LiteRT gets the integers' exact real values, so its QUANTIZE gives the same integers whatever its rounding.
    const onGrid = Float32Array.from(qx, (v) => grid.scale * (v - grid.zeroPoint));
    const ys = await litert.run(tfliteInputIsNchw ? onGrid : toNhwc(onGrid, sample));
    const ours = rt.run({ shape: [1, ...sample], data: qx }, kept.map((t) => sg.tensors[t].name));
    kept.forEach((t, k) => {
      const tensor = sg.tensors[t];
      const { scale, zeroPoint } = q.activations.get(tensor.name)!;
      const theirs = Int8Array.from(ys[k], (v) => Math.round(v / scale) + zeroPoint);
      const mine = ours.get(tensor.name)!.data;
      const nhwc = tensor.shape.length === 4 ? toNhwcInt8(mine, [tensor.shape[3], tensor.shape[1], tensor.shape[2]]) : mine;
      values += theirs.length;
      for (let i = 0; i < theirs.length; i++) if (theirs[i] !== nhwc[i]) mismatched++;
    });
  }
  litert.dispose();
  return { tensors: kept.length, values, mismatched };
}

function countDifferent(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Math.max(a.length, b.length);
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}

function toNhwc(x: Float32Array, [c, h, w]: readonly number[]): Float32Array {
  const out = new Float32Array(x.length);
  for (let ch = 0; ch < c; ch++) for (let p = 0; p < h * w; p++) out[p * c + ch] = x[ch * h * w + p];
  return out;
}

function toNhwcInt8(x: Int8Array, [c, h, w]: readonly number[]): Int8Array {
  const out = new Int8Array(x.length);
  for (let ch = 0; ch < c; ch++) for (let p = 0; p < h * w; p++) out[p * c + ch] = x[ch * h * w + p];
  return out;
}

describe('int8 TFLite import: the converter\'s models in the QuantizedGraph', () => {
  for (const c of CASES)
    it(`${c.name}: per-channel weights, int32 biases, every operator output bit-exact with LiteRT.js`, async () => {
      const q = importTfliteInt8(readFileSync(c.path), c.path);
      const weights = [...q.weights.values()];
      expect(weights.length).toBe(c.layers.weighted);
      expect(weights.filter((w) => w.channelScales).length).toBe(c.layers.perChannel);
      for (const w of weights) if (w.channelScales) expect(w.channelScales.length).toBe(w.shape[0]);
      // The graph's float constants are exactly the integers times their (per-channel) scales.
      for (const [name, w] of q.weights) expect(countDifferent(dequantizeWeight(w), q.graph.values.get(name)!.data as Float32Array)).toBe(0);
      for (const [name, b] of q.biases) expect(countDifferent(dequantizeBias(b), q.graph.values.get(name)!.data as Float32Array)).toBe(0);
      const r = await tensorMismatches(c, q, await realInputs(c, q));
      expect(r.tensors).toBeGreaterThan(c.layers.weighted - 1);
      expect(r.values).toBeGreaterThan(1000);
      expect(r.mismatched).toBe(0);
    }, 60_000);
});

describe('eval on a foreign int8 .tflite: LiteRT.js runs the file, the runtime its import, same accuracy', () => {
  it('ResNet-8 int8-reference on cifar10/test-200: 85.0 % in both (the shared README\'s figure)', async () => {
    const o = { data: data('cifar10/test-200'), preprocess: 'none', batch: 32 } as const;
    const litert = await evaluate(model('resnet8-cifar10/int8-reference.tflite'), { ...o, executor: 'litert' });
    const runtime = await evaluate(model('resnet8-cifar10/int8-reference.tflite'), { ...o, executor: 'runtime', mode: 'tflite-xnnpack' });
    expect(litert.count).toBe(200);
    expect(100 * litert.top1).toBeCloseTo(85.0, 5);
    expect(runtime.top1).toBe(litert.top1);
    expect(litert.executor).toMatch(/LiteRT/);
  }, 60_000);

  it('an int8 model opens as a foreign artefact; an executor that cannot run it is named', async () => {
    const a = openArtefact(model('dscnn-kws/int8-reference.tflite'));
    expect(a.kind).toBe('foreign');
    await expect(defaultExecutor(a, 'no-such', { mode: 'tflite-xnnpack' })).rejects.toThrow(/executor 'no-such': expected one of .*litert/);
  });
});

describe('export of an imported int8 model', () => {
  it('ResNet-8: the .tflite flexq writes from the import (per-channel weights) gives LiteRT.js the same outputs as the original', async () => {
    const path = model('resnet8-cifar10/int8-reference.tflite');
    const out = join(mkdtempSync(join(tmpdir(), 'flexq-int8-')), 'reexported.tflite');
    await exportModel(path, { format: 'tflite', output: out });
    const [original, reexported] = await Promise.all([path, out].map((p) => defaultExecutor(openArtefact(p), 'litert', { mode: 'tflite-xnnpack' })));
    const shape = original.graph.values.get(original.graph.inputs[0])!.shape.slice(1) as number[];
    const x = await readAllSamples(await openData(data('cifar10/test-200'), { preprocess: 'none', limit: 16 }, shape));
    const input = { shape: [16, ...shape], data: x };
    const [a, b] = [(await original.run(input)).get(original.graph.outputs[0])!.data, (await reexported.run(input)).get(reexported.graph.outputs[0])!.data];
    expect(a.length).toBe(160);
    expect(countDifferent(a, b)).toBe(0);
    const sg = readTfliteModel(readFileSync(out), out).subgraphs[0];
    expect(sg.tensors.filter((t) => (t.quantization?.scale.length ?? 0) > 1).length).toBe(18); // 9 per-channel filters and their biases
  }, 60_000);
});

describe('ONNX QDQ export of an imported int8 model (per-axis DequantizeLinear)', () => {
  it('DS-CNN: the .onnx file, opened as an integer ONNX model, runs in onnxruntime-node bit-exact with the runtime in onnx mode', async () => {
    const tflite = model('dscnn-kws/int8-reference.tflite');
    const onnxPath = join(mkdtempSync(join(tmpdir(), 'flexq-int8-')), 'dscnn.qdq.onnx');
    await exportModel(tflite, { format: 'onnx-qdq', output: onnxPath });
    const file = openArtefact(onnxPath);
    expect(file.kind === 'foreign' && file.foreign.format).toBe('onnx');
    const [ort, runtime] = [await defaultExecutor(file, undefined, { mode: 'onnx' }), await defaultExecutor(openArtefact(tflite), 'runtime', { mode: 'onnx' })];
    expect(ort.name).toBe('ort-node (the file as it is)');
    const shape = runtime.graph.values.get(runtime.graph.inputs[0])!.shape.slice(1) as number[];
    const x = await readAllSamples(await openData(data('kws/features.npy'), { preprocess: 'none', labels: data('kws/labels.npy'), limit: 32 }, shape));
    const input = { shape: [32, ...shape], data: x };
    const [y1, y2] = [(await ort.run(input)).get(ort.graph.outputs[0])!.data, (await runtime.run(input)).get(runtime.graph.outputs[0])!.data];
    expect(y1.length).toBe(32 * 12);
    expect(countDifferent(y1, y2)).toBe(0);
    await ort.dispose();
  }, 60_000);
});

describe('.fq version 2: per-channel scales on disk', () => {
  it('DS-CNN\'s import round-trips through an .fq (version 2) and runs the same integers; per-tensor files stay version 1', () => {
    const q = importTfliteInt8(readFileSync(model('dscnn-kws/int8-reference.tflite')), 'dscnn.tflite');
    const bytes = encodeFq(q);
    expect(new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true)).toBe(2);
    const back = decodeFq(bytes, 'dscnn.fq');
    for (const [name, w] of q.weights) expect(back.weights.get(name)!.channelScales).toEqual(w.channelScales);
    for (const [name, b] of q.biases) expect(back.biases.get(name)!.channelScales).toEqual(b.channelScales);
    const x = Int8Array.from({ length: 490 * 4 }, (_, i) => ((i * 37) % 256) - 128);
    const run = (g: QuantizedGraph) => createIntegerRuntime(g, 'tflite-double').run({ shape: [4, 1, 49, 10], data: x }).get(g.graph.outputs[0])!.data;
    expect(run(back)).toEqual(run(q));
    const perTensor: QuantizedGraph = { ...q, weights: new Map([...q.weights].map(([k, { channelScales: _, ...w }]) => [k, w])), biases: new Map([...q.biases].map(([k, b]) => [k, { values: b.values, scale: b.scale }])) };
    const v1 = encodeFq(perTensor);
    expect(new DataView(v1.buffer, v1.byteOffset).getUint32(8, true)).toBe(1);
  });
});

describe('validate FLOAT INT8: the converter\'s model against the float one it stands for', () => {
  it('DS-CNN: LiteRT.js and the runtime give the same integers, agree with float.onnx on top-1, and every layer pairs', async () => {
    const r = await validate(model('dscnn-kws/float.onnx'), model('dscnn-kws/int8-reference.tflite'), {
      data: data('kws/features.npy'), labels: data('kws/labels.npy'), preprocess: 'none', limit: 100, modes: ['tflite-xnnpack'],
    });
    expect(r.count).toBe(100);
    expect(r.artefact).toBe('tflite');
    expect(r.executors.map((e) => e.executor)).toEqual([expect.stringMatching(/LiteRT/), 'runtime (tflite-xnnpack)']);
    for (const e of r.executors) {
      expect(e.top1Agreement).toBeGreaterThanOrEqual(0.95);
      expect(e.output.sqnrDb).toBeGreaterThan(25);
    }
    expect(Object.values(r.mismatches).flatMap((row) => Object.values(row))).toEqual([0, 0, 0, 0]);
    // The import takes float.onnx's names: all 13 node outputs (9 convs, pool, flatten, FC, softmax) compare per layer.
    expect(r.executors[1].layers.map((l) => l.op)).toEqual([...new Array(9).fill('Conv'), 'GlobalAveragePool', 'Flatten', 'Gemm', 'Softmax']);
    for (const l of r.executors[1].layers) expect(l.sqnrDb, l.value).toBeGreaterThan(15);
  }, 60_000);
});

describe('validate FLOAT INT8 with the wrong float model', () => {
  it('is refused before any data is read, naming both files and their shapes', async () => {
    const int8 = model('resnet8-cifar10/int8-reference.tflite');
    const float = model('dscnn-kws/float.onnx');
    await expect(validate(float, int8, { data: '/no/such/data' })).rejects.toThrow(
      `${int8} takes ["N",3,32,32] and gives ["N",10], but ${float} takes ["N",1,49,10] and gives ["N",12]: give the float model the int8 model was converted from`,
    );
  });
});

describe('flexq CLI on the converter\'s int8 models', () => {
  it('flexq eval int8-reference.tflite --executor litert reports the accuracy', async () => {
    const r = await flexq('eval', model('resnet8-cifar10/int8-reference.tflite'), '--data', data('cifar10/test-200'), '--executor', 'litert', '--limit', '40', '--json');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.count).toBe(40);
    expect(report.executor).toMatch(/LiteRT/);
    expect(report.top1).toBeGreaterThan(0.7);
  }, 60_000);

  it('a per-channel model exports for Cortex-M: the first conv requantizes each of its 64 channels with its own multiplier', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'flexq-int8-')), 'c');
    const r = await flexq('export', model('dscnn-kws/int8-reference.tflite'), '--format', 'c', '-o', out);
    expect(r.code, r.stderr).toBe(0);
    const multipliers = /n0_multiplier\[64\] = \{([^}]*)\}/.exec(readFileSync(join(out, 'model.c'), 'utf8'))![1].split(',').filter((v) => v.trim() !== '').map(Number);
    expect(multipliers).toHaveLength(64);
    expect(new Set(multipliers).size).toBeGreaterThan(32);
  }, 60_000);
});
