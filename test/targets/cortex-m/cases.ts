// The three shared models the Cortex-M target is proven on: quantized (RTN W8A8) on one split of their data, and
// PROOF_INPUTS held-out samples, quantized as the C target's input (tflite-double rounding). The TFLite converter's
// int8 models come quantized: imported as they are (INT8_REFERENCE_CASES, the mcu bench's same-bytes rows).

import { readFileSync } from 'node:fs';
import { openDataset, type DataSpec } from '../../../calibration/index.js';
import { quantize } from '../../../src/index.js';
import { importTfliteInt8 } from '../../../src/import/tflite/import-tflite-int8.js';
import type { QuantizedGraph } from '../../../src/ir/quantized-graph.js';
import { createIntegerRuntime } from '../../../runtime/executor.js';
import { C_REQUANT_MODE } from '../../../targets/cortex-m/lower.js';
import { data, model } from '../../helpers/shared.js';

export const PROOF_INPUTS = 100;

export interface ModelCase {
  readonly name: string;
  readonly file: string;
  /** Quantized with RTN W8A8 on this data; absent for an int8 .tflite, imported with its own scales. */
  readonly calib?: { path: string; labels?: string; limit: number; preprocess: DataSpec['preprocess'] };
  readonly test: Omit<DataSpec, 'sampleShape' | 'limit'>;
  /** The key of TFLite-Micro's figures on this network (../shared/README.md), when it is not `name`. */
  readonly peer?: string;
}

export const MODEL_CASES: readonly ModelCase[] = [
  {
    name: 'ResNet-8',
    file: 'resnet8-cifar10/float.onnx',
    calib: { path: data('cifar10/calib-1024'), limit: 256, preprocess: 'none' },
    test: { path: data('cifar10/test-200'), preprocess: 'none' },
  },
  {
    name: 'DS-CNN',
    file: 'dscnn-kws/float.onnx',
    calib: { path: data('kws/features.npy'), labels: data('kws/labels.npy'), limit: 500, preprocess: 'none' },
    test: { path: data('kws/features.npy'), labels: data('kws/labels.npy'), preprocess: 'none', offset: 500 },
  },
  {
    name: 'MNIST-8',
    file: 'mnist-8/model.onnx',
    calib: { path: data('mnist/test-images.npy'), labels: data('mnist/test-labels.npy'), limit: 1000, preprocess: 'unit' },
    test: { path: data('mnist/test-images.npy'), labels: data('mnist/test-labels.npy'), preprocess: 'unit', offset: 1000 },
  },
];

export const INT8_REFERENCE_CASES: readonly ModelCase[] = [
  { name: 'ResNet-8 int8-reference', peer: 'ResNet-8', file: 'resnet8-cifar10/int8-reference.tflite', test: MODEL_CASES[0].test },
  { name: 'DS-CNN int8-reference', peer: 'DS-CNN', file: 'dscnn-kws/int8-reference.tflite', test: MODEL_CASES[1].test },
];

export interface PreparedCase {
  readonly q: QuantizedGraph;
  /** The PROOF_INPUTS float samples (NCHW, after preprocessing), back to back. */
  readonly floats: Float32Array;
  /** PROOF_INPUTS int8 samples, back to back. */
  readonly inputs: Int8Array;
  readonly count: number;
  /** The integer runtime's output bytes for them. */
  readonly expected: Int8Array;
}

export async function prepareCase(c: ModelCase): Promise<PreparedCase> {
  const q = c.calib
    ? await quantize(model(c.file), {
        calib: c.calib.path, labels: c.calib.labels, limit: c.calib.limit, preprocess: c.calib.preprocess,
        method: 'rtn', wbits: 8, abits: 8, seed: 0, observer: 'minmax', batch: 32,
      })
    : importTfliteInt8(readFileSync(model(c.file)), model(c.file));
  const sample = q.graph.values.get(q.graph.inputs[0])!.shape.slice(1) as number[];
  const ds = await openDataset({ ...c.test, limit: PROOF_INPUTS, sampleShape: sample });
  const parts: Float32Array[] = [];
  for await (const b of ds.batches(PROOF_INPUTS)) parts.push(b.data.slice());
  const floats = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (floats.set(p, at), at + p.length), 0);
  const runtime = createIntegerRuntime(q, C_REQUANT_MODE);
  const inputs = runtime.quantizeInput(floats);
  const expected = runtime.run({ shape: [ds.size, ...sample], data: inputs }).get(q.graph.outputs[0])!.data;
  return { q, floats, inputs, count: ds.size, expected };
}

export function mismatchedBytes(a: Int8Array, b: Int8Array): number {
  let n = Math.abs(a.length - b.length);
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) n++;
  return n;
}
