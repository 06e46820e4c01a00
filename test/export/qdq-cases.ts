// The shared models and labelled sets the ONNX QDQ exactness tests run (onnx-qdq.test.ts, onnx-qdq-flavours.test.ts):
// each quantized RTN W8A8 (minmax) on one split, and compared against the integer runtime on its held-out split, then
// on calibration samples again up to 1000 inputs: bit-exactness needs no held-out data, only many inputs.
import { openDataset, type DataSpec, type Preprocess } from '../../calibration/index.js';
import { quantize } from '../../src/index.js';
import { runtimeExecutor } from '../../src/api/executors.js';
import { argmaxRows } from '../../src/metrics.js';
import type { QuantizedGraph } from '../../src/ir/quantized-graph.js';
import type { WeightRange } from '../../src/quant/schemes.js';
import type { BatchExecutor } from '../../src/target.js';
import type { FloatTensor } from '../../src/tensor.js';
import { data, model } from '../helpers/shared.js';

export type Split = Omit<DataSpec, 'sampleShape' | 'preprocess'>;

export interface QdqCase {
  readonly name: string;
  readonly file: string;
  readonly preprocess: Preprocess;
  readonly calib: Split;
  /** Data calibration never saw: top-1 is counted here, and every activation compared. */
  readonly heldOut: Split;
  /** Calibration samples compared again (at the outputs), so that every set gives 1000 inputs. */
  readonly reused?: Split;
  /** How many inputs the two splits give (checked). */
  readonly inputs: number;
  /** How many of them, from the first, are compared in every activation (the rest at the outputs). */
  readonly layerInputs: number;
  readonly batch: number;
}

const kws = { path: data('kws/features.npy'), labels: data('kws/labels.npy') };
const mnist = { path: data('mnist/test-images.npy'), labels: data('mnist/test-labels.npy') };

export const RESNET8: QdqCase = {
  name: 'ResNet-8', file: 'resnet8-cifar10/float.onnx', preprocess: 'none', batch: 50, inputs: 1000, layerInputs: 200,
  calib: { path: data('cifar10/calib-1024'), limit: 256 }, heldOut: { path: data('cifar10/test-200') }, reused: { path: data('cifar10/calib-1024'), limit: 800 },
};
export const DSCNN: QdqCase = {
  name: 'DS-CNN', file: 'dscnn-kws/float.onnx', preprocess: 'none', batch: 100, inputs: 1000, layerInputs: 500,
  calib: { ...kws, limit: 500 }, heldOut: { ...kws, offset: 500 }, reused: { ...kws, limit: 500 },
};
export const MNIST8: QdqCase = {
  name: 'MNIST-8', file: 'mnist-8/model.onnx', preprocess: 'unit', batch: 250, inputs: 1000, layerInputs: 1000,
  calib: { ...mnist, limit: 1000 }, heldOut: { ...mnist, offset: 1000, limit: 1000 },
};
/**
 * 224×224 photos: 100 of the 1000, since the runtime took 0.9 s a photo (onnxruntime-node 0.07 s, -web 0.1 s; 2 busy
 * cores, load 8); at best 0.23 s in onnx mode (0.35 s before its GEMM packed two pixels per double:
 * `npm run bench -- runtime`), so 900 more would still add minutes.
 */
export const MOBILENETV2: QdqCase = {
  name: 'MobileNetV2', file: 'mobilenetv2-imagenet/float-from-int8.onnx', preprocess: 'imagenet', batch: 10, inputs: 100, layerInputs: 10,
  calib: { path: data('imagenet-sample'), offset: 100, limit: 32 }, heldOut: { path: data('imagenet-sample'), limit: 100 },
};

const quantized = new Map<string, Promise<QuantizedGraph>>();

/** RTN W8A8, minmax calibration, with 8-bit ([−127, 127]) or 7-bit ([−64, 63]) weights; once per model and range. */
export function quantizeRtn(c: QdqCase, weightRange: WeightRange): Promise<QuantizedGraph> {
  const key = `${c.name} ${weightRange}`;
  if (!quantized.has(key)) {
    const { path, labels, limit, offset } = c.calib;
    quantized.set(key, quantize(model(c.file), { calib: path, labels, limit, offset, preprocess: c.preprocess, method: 'rtn', wbits: 8, abits: 8, seed: 0, observer: 'minmax', batch: 32, weightRange }));
  }
  return quantized.get(key)!;
}

/** An executor compared with the runtime on the first `inputs` exactness inputs (default all), at the outputs only or not. */
export interface Compared {
  readonly label: string;
  readonly executor: BatchExecutor;
  readonly inputs?: number;
  readonly outputsOnly?: boolean;
}

export interface Comparison {
  /** Inputs run, and how many of them were held out. */
  readonly inputs: number;
  readonly heldOut: number;
  /** Held-out inputs the runtime classifies right. */
  readonly correct: number;
  /** '<label> <value>' with its count of mismatched elements, where not zero. */
  readonly differ: [string, number][];
}

/**
 * Each executor's mismatched elements against the integer runtime (onnx mode) over the case's exactness inputs: every
 * activation of the first c.layerInputs, the outputs of the rest; the runtime's top-1 hits on the held-out split.
 */
export async function compareWithRuntime(c: QdqCase, q: QuantizedGraph, compared: readonly Compared[]): Promise<Comparison> {
  const runtime = await runtimeExecutor(q, { mode: 'onnx' });
  const output = q.graph.outputs[0];
  const layers = [...q.activations.keys()].filter((v) => !q.graph.inputs.includes(v));
  const differ = new Map<string, number>();
  let [inputs, heldOut, correct] = [0, 0, 0];
  for await (const b of exactnessBatches(c, q)) {
    const values = inputs < c.layerInputs ? layers : [output];
    const active = compared.filter((e) => inputs < (e.inputs ?? Infinity));
    const [reference, ...outs] = await Promise.all([runtime.run(b.input, values), ...active.map((e) => e.executor.run(b.input, e.outputsOnly ? [output] : values))]);
    active.forEach((e, k) => {
      for (const v of e.outputsOnly ? [output] : values) {
        const key = `${e.label} ${v}`;
        differ.set(key, (differ.get(key) ?? 0) + mismatches(reference.get(v)!.data, outs[k].get(v)!.data));
      }
    });
    const count = b.input.shape[0];
    if (b.heldOut) {
      heldOut += count;
      correct += argmaxRows(reference.get(output)!.data, count).filter((k, i) => k === b.labels![i]).length;
    }
    inputs += count;
  }
  await runtime.dispose();
  return { inputs, heldOut, correct, differ: [...differ].filter(([, n]) => n > 0) };
}

export interface ExactnessBatch {
  readonly input: FloatTensor;
  readonly labels?: Int32Array;
  readonly heldOut: boolean;
}

/** The case's exactness inputs in batches of c.batch: the held-out split, then the reused calibration samples. */
export async function* exactnessBatches(c: QdqCase, q: QuantizedGraph): AsyncGenerator<ExactnessBatch> {
  const sample = q.graph.values.get(q.graph.inputs[0])!.shape.slice(1) as number[];
  for (const [split, heldOut] of [[c.heldOut, true], ...(c.reused ? [[c.reused, false] as const] : [])] as const) {
    const ds = await openDataset({ ...split, preprocess: c.preprocess, sampleShape: sample });
    for await (const b of ds.batches(c.batch)) yield { input: { shape: [b.count, ...sample], data: b.data }, labels: b.labels, heldOut };
  }
}

/** Elements of a and b that differ (both are dequantized 8-bit integers: equal floats iff equal integers). */
export function mismatches(a: Float32Array, b: Float32Array): number {
  let n = Math.abs(a.length - b.length);
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) n++;
  return n;
}
