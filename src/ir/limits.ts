import { fail } from '../errors.js';
import type { DType, TensorData } from './dtype.js';
import { formatShape, type Shape } from './shape.js';

/*
 * The sizes flexq accepts, checked where a model or .fq file states a shape, before anything is allocated:
 * a hostile or damaged file must end in a clear error, never in a huge allocation or an out-of-bounds access.
 *
 * - MAX_TENSOR_ELEMENTS: 2^28 elements per tensor (1 GiB of float32). The largest tensors of the models flexq
 *   targets (MobileNetV2's activations at batch 1: 1.2 M; its largest weight: 1.3 M) are 200× below it, and a
 *   batch of 32 such activations still fits.
 * - MAX_DIM: no single dimension above the element limit.
 * - MAX_RANK: 8 dims; flexq's ops are at most 4-D, and ONNX/TFLite models in practice stay ≤ 6.
 */
export const MAX_TENSOR_ELEMENTS = 2 ** 28;
export const MAX_DIM = MAX_TENSOR_ELEMENTS;
export const MAX_RANK = 8;

/** What is wrong with a shape (a stated or inferred one), or undefined when it is within the limits. */
export function shapeProblem(shape: Shape, options: { minDim?: number } = {}): string | undefined {
  const minDim = options.minDim ?? 0;
  if (!Array.isArray(shape)) return `shape ${JSON.stringify(shape)} is not a list of dims`;
  if (shape.length > MAX_RANK) return `rank ${shape.length} is above flexq's limit of ${MAX_RANK}`;
  let elements = 1;
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i];
    if (typeof d === 'string') continue;
    if (typeof d !== 'number' || !Number.isInteger(d)) return `dim ${i} of ${formatShape(shape)} is ${String(d)}, not an integer`;
    if (d < minDim) return `dim ${i} of ${formatShape(shape)} is ${d}, expected ≥ ${minDim}`;
    if (d > MAX_DIM) return `dim ${i} of ${formatShape(shape)} is ${d}, above flexq's limit of ${MAX_DIM} (2^28)`;
    elements *= d;
  }
  if (elements > MAX_TENSOR_ELEMENTS)
    return `${formatShape(shape)} has ${elements} elements, above flexq's limit of ${MAX_TENSOR_ELEMENTS} (2^28) per tensor`;
  return undefined;
}

/** Fails with `code` and `where` when a shape breaks the limits; the advice says what to do. */
export function checkShape(shape: Shape, where: string, options: { minDim?: number; code?: 'MODEL_INVALID' | 'SHAPE' } = {}): void {
  const problem = shapeProblem(shape, options);
  if (problem) fail(options.code ?? 'MODEL_INVALID', `${where}: ${problem}; the file is damaged or the model is larger than flexq supports`);
}

/**
 * The index of the first value that is not a usable number: NaN anywhere, or ±Infinity in a tensor of more
 * than one element (a one-element constant may be an unbounded limit such as Clip's max). −1 when all are fine.
 */
export function firstNonFinite(data: TensorData): number {
  if (!(data instanceof Float32Array)) return -1;
  const boundOk = data.length === 1;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v !== v || (!boundOk && (v === Infinity || v === -Infinity))) return i;
  }
  return -1;
}

/** Fails when a float constant holds NaN or ±Infinity (see firstNonFinite), naming the tensor and the first bad index. */
export function checkFinite(name: string, dtype: DType, data: TensorData, where: string): void {
  if (dtype !== 'float32') return;
  const i = firstNonFinite(data);
  if (i >= 0)
    fail('MODEL_INVALID', `${where}: tensor '${name}' holds ${data[i]} at flat index ${i} (of ${data.length}); float weights and constants must be finite: fix or retrain the model`);
}
