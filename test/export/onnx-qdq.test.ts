// The ONNX QDQ export run by onnxruntime-node and onnxruntime-web (wasm, in Node) against flexq's integer runtime in
// its onnx mode: every activation of every shared model, byte for byte, on held-out data (calibration disjoint).
// Each executor runs the flavour it picks (targets/web/ort-executor.ts): ort-web the uint8-activation 'ort-web' one,
// ort-node the generic int8 one for these 8-bit weights (test/export/onnx-qdq-flavours.test.ts: the other flavours).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pkg from 'onnx-proto';
import * as ortNode from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDataset, type DataSpec } from '../../calibration/index.js';
import { createIntegerRuntime } from '../../runtime/executor.js';
import { quantize, type QuantizeOptions } from '../../src/index.js';
import { quantizedExecutor } from '../../src/api/executors.js';
import type { BatchExecutor } from '../../src/index.js';
import { buildQdqModel, exportOnnxQdq } from '../../src/export/onnx-qdq.js';
import { FlexqError } from '../../src/errors.js';
import { argmaxRows } from '../../src/metrics.js';
import type { QuantizedGraph } from '../../src/ir/quantized-graph.js';
import { ORT_SESSION_OPTIONS } from '../../targets/web/ort-executor.js';
import { data, model } from '../helpers/shared.js';

interface RealCase {
  readonly name: string;
  readonly file: string;
  readonly preprocess: 'none' | 'unit' | 'imagenet';
  readonly calib: Omit<DataSpec, 'sampleShape' | 'preprocess'>;
  readonly test: Omit<DataSpec, 'sampleShape' | 'preprocess'>;
  /** Top-1 floor of the int8 model on the test part (float top-1 minus a few points). */
  readonly top1Floor: number;
  readonly batch: number;
  /** How many test samples are compared in every activation (all of them are compared at the output). */
  readonly layerSamples: number;
}

const kws = { path: data('kws/features.npy'), labels: data('kws/labels.npy') };
const mnist = { path: data('mnist/test-images.npy'), labels: data('mnist/test-labels.npy') };
const REAL: RealCase[] = [
  { name: 'ResNet-8', file: 'resnet8-cifar10/float.onnx', preprocess: 'none', calib: { path: data('cifar10/calib-1024'), limit: 256 }, test: { path: data('cifar10/test-200') }, top1Floor: 0.82, batch: 50, layerSamples: 200 },
  { name: 'DS-CNN', file: 'dscnn-kws/float.onnx', preprocess: 'none', calib: { ...kws, limit: 500 }, test: { ...kws, offset: 500 }, top1Floor: 0.87, batch: 100, layerSamples: 500 },
  { name: 'MNIST-8', file: 'mnist-8/model.onnx', preprocess: 'unit', calib: { ...mnist, limit: 1000 }, test: { ...mnist, offset: 1000, limit: 1000 }, top1Floor: 0.96, batch: 250, layerSamples: 1000 },
  { name: 'MobileNetV2', file: 'mobilenetv2-imagenet/float-from-int8.onnx', preprocess: 'imagenet', calib: { path: data('imagenet-sample'), offset: 100, limit: 32 }, test: { path: data('imagenet-sample'), limit: 100 }, top1Floor: 0.6, batch: 10, layerSamples: 10 },
];

const quantized = new Map<string, Promise<QuantizedGraph>>();

/** RTN W8A8 with a minmax calibration on the case's calibration part (once per model in this file). */
function quantizeRtnW8A8(c: RealCase): Promise<QuantizedGraph> {
  if (!quantized.has(c.name)) quantized.set(c.name, quantizeOnce(c));
  return quantized.get(c.name)!;
}

async function quantizeOnce(c: RealCase): Promise<QuantizedGraph> {
  const o: QuantizeOptions = {
    calib: c.calib.path, labels: c.calib.labels, limit: c.calib.limit, offset: c.calib.offset, preprocess: c.preprocess,
    method: 'rtn', wbits: 8, abits: 8, seed: 0, observer: 'minmax', batch: 32,
  };
  return quantize(model(c.file), o);
}

/** Elements of a and b that differ (NaN never appears: both are dequantized int8). */
function mismatches(a: Float32Array, b: Float32Array): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n + Math.abs(a.length - b.length);
}

for (const c of REAL) {
  describe(`ONNX QDQ ${c.name}: runtime (onnx mode), ort-node and ort-web agree on every activation`, () => {
    let q: QuantizedGraph;
    let executors: BatchExecutor[];

    beforeAll(async () => {
      q = await quantizeRtnW8A8(c);
      executors = [];
      for (const name of ['runtime', 'ort-node', 'ort-web']) executors.push(await quantizedExecutor(q, name, { mode: 'onnx' }));
    });
    afterAll(async () => {
      for (const e of executors ?? []) await e.dispose();
    });

    it('zero mismatched bytes in every layer, and top-1 above the floor', async () => {
      const sample = q.graph.values.get(q.graph.inputs[0])!.shape.slice(1) as number[];
      const ds = await openDataset({ ...c.test, preprocess: c.preprocess, sampleShape: sample });
      const layers = [...q.activations.keys()].filter((v) => !q.graph.inputs.includes(v));
      const output = q.graph.outputs[0];
      const differ = new Map<string, number>(executors.slice(1).flatMap((e) => layers.map((v) => [`${e.name} ${v}`, 0])));
      let seen = 0;
      let correct = 0;
      for await (const batch of ds.batches(c.batch)) {
        const input = { shape: [batch.count, ...sample], data: batch.data };
        const compared = seen < c.layerSamples ? layers : [output];
        const [reference, ...others] = await Promise.all(executors.map((e) => e.run(input, compared)));
        others.forEach((out, k) => {
          for (const v of compared) {
            const key = `${executors[k + 1].name} ${v}`;
            differ.set(key, differ.get(key)! + mismatches(reference.get(v)!.data, out.get(v)!.data));
          }
        });
        seen += batch.count;
        correct += argmaxRows(reference.get(output)!.data, batch.count).filter((k, i) => k === batch.labels![i]).length;
      }
      expect(seen).toBe(ds.size);
      expect([...differ].filter(([, n]) => n > 0)).toEqual([]);
      expect(correct / ds.size).toBeGreaterThanOrEqual(c.top1Floor);
    }, 400_000);
  });
}

describe('ONNX QDQ file (ResNet-8)', () => {
  let q: QuantizedGraph;
  let dir: string;
  beforeAll(async () => {
    q = await quantizeRtnW8A8(REAL[0]);
    dir = mkdtempSync(join(tmpdir(), 'flexq-qdq-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('onnxruntime fuses it into integer kernels: no float Conv or Gemm is left, the adds stay float', async () => {
    const [file] = await exportOnnxQdq(q, join(dir, 'model.qdq.onnx'), { io: 'float' });
    const optimized = join(dir, 'optimized.onnx');
    const session = await ortNode.InferenceSession.create(file, { ...ORT_SESSION_OPTIONS, graphOptimizationLevel: 'extended', optimizedModelFilePath: optimized });
    await session.release();
    const ops = pkg.onnx.ModelProto.decode(readFileSync(optimized)).graph!.node!.map((n) => n.opType);
    const count = (op: string) => ops.filter((o) => o === op).length;
    expect(count('QLinearConv')).toBe(q.graph.nodes.filter((n) => n.op === 'Conv').length);
    expect(count('QGemm')).toBe(1);
    expect(count('QLinearGlobalAveragePool')).toBe(1);
    expect(count('QLinearSoftmax')).toBe(1);
    expect(count('Conv') + count('Gemm')).toBe(0);
    // The residual adds stay float32 between DQ and Q on purpose (src/export/onnx-qdq.ts): Sum, never QLinearAdd.
    expect([count('Sum'), count('QLinearAdd')]).toEqual([3, 0]);
  });

  it('--io int8: int8 input and output tensors, the same bytes as the runtime', async () => {
    const session = await ortNode.InferenceSession.create(buildQdqModel(q, { io: 'int8' }), ORT_SESSION_OPTIONS);
    const ds = await openDataset({ path: data('cifar10/test-200'), preprocess: 'none', limit: 40, sampleShape: [3, 32, 32] });
    const rt = createIntegerRuntime(q, 'onnx');
    for await (const batch of ds.batches(40)) {
      const x = rt.quantizeInput(batch.data);
      const got = await session.run({ [q.graph.inputs[0]]: new ortNode.Tensor('int8', x, [batch.count, 3, 32, 32]) });
      const y = got[q.graph.outputs[0]];
      expect(y.type).toBe('int8');
      expect(y.data).toEqual(rt.run({ shape: [batch.count, 3, 32, 32], data: x }).get(q.graph.outputs[0])!.data);
    }
    await session.release();
  });

  it('refuses a weights-only (--abits 32) graph, naming what to do', () => {
    const floatActivations = { ...q, activations: new Map() };
    expect(() => buildQdqModel(floatActivations, { io: 'float' })).toThrow(FlexqError);
    expect(() => buildQdqModel(floatActivations, { io: 'float' })).toThrow(/--abits 8/);
  });
});
