// Where TFLite's layout differs from the IR's: rank-4 activations are NHWC in TFLite and NCHW in the IR.

import { NCHW_TO_NHWC } from '../../ir/layout.js';
import type { ConstTensor } from '../../ops/contract.js';
import { transposeConst } from '../../ops/transpose.js';

/** The TFLite shape of an IR shape: NHWC for rank 4. */
export function tfliteShape(nchw: readonly number[]): number[] {
  return tfliteAxes(nchw.length).map((a) => nchw[a]);
}

/** TFLite axis i of a rank-r tensor holds IR axis tfliteAxes(r)[i] (NCHW_TO_NHWC for rank 4, the identity otherwise). */
export function tfliteAxes(rank: number): number[] {
  return rank === 4 ? [...NCHW_TO_NHWC] : Array.from({ length: rank }, (_, a) => a);
}

/** Whether a rank-4 NCHW tensor stored as NHWC has its elements in NCHW order anyway (one channel, or one pixel). */
export function nhwcIsNchwOrder(nchw: readonly number[]): boolean {
  return nchw.length !== 4 || nchw[1] === 1 || nchw[2] * nchw[3] === 1;
}

export function littleEndian(values: Int8Array | Int32Array | Float32Array): Uint8Array {
  // Typed arrays are in the platform's order; every platform Node runs on is little-endian, as TFLite's buffers are.
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength).slice();
}


/** An int8 tensor's values with its axes permuted (out axis k = in axis perm[k]). */
export function permuteInt8(values: Int8Array, shape: readonly number[], perm: readonly number[]): Int8Array {
  const x: ConstTensor = { dtype: 'int8', shape, data: values };
  return transposeConst(x, perm).data as Int8Array;
}
