import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import type { FloatTensor } from '../../src/tensor.js';

/** The shared models and data sets, next to the repository (CI has them there too). */
export const SHARED = fileURLToPath(new URL('../../../shared/', import.meta.url));
export const hasShared = existsSync(SHARED);
export const model = (rel: string): string => `${SHARED}models/${rel}`;
export const data = (rel: string): string => `${SHARED}data/${rel}`;

/** Runs an ONNX model in onnxruntime-node one sample at a time (the shared models have batch 1 fixed) and stacks the outputs. */
export async function runOrt(path: string, input: string, batch: FloatTensor): Promise<FloatTensor> {
  const session = await ort.InferenceSession.create(path);
  const [n, ...sample] = batch.shape;
  const per = batch.data.length / n;
  const parts: Float32Array[] = [];
  let outShape: readonly number[] = [];
  for (let i = 0; i < n; i++) {
    const r = await session.run({ [input]: new ort.Tensor('float32', batch.data.slice(i * per, (i + 1) * per), [1, ...sample]) });
    const y = r[session.outputNames[0]];
    parts.push(y.data as Float32Array);
    outShape = y.dims;
  }
  await session.release();
  const data = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  parts.forEach((p, i) => data.set(p, i * p.length));
  return { shape: [n, ...outShape.slice(1)], data };
}

/** max |a − b| / max |b|: the executor-agreement measure the foundation issue states (≤ 1e-4). */
export function relativeMaxError(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}
