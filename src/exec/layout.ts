// The float executor keeps rank-4 tensors NHWC (TensorFlow.js convolutions are NHWC-only) while the IR is NCHW.
import { NCHW_TO_NHWC, NHWC_TO_NCHW } from '../ir/layout.js';

/** The NHWC position of NCHW axis `a` (C moves last). */
export function nhwcAxis(a: number): number {
  return NHWC_TO_NCHW[a];
}

/** ONNX pads [x1_begin…x4_begin, x1_end…x4_end] of an NCHW tensor → tf.pad pairs for its NHWC twin. */
export function nhwcPadPairs(pads: readonly number[]): [number, number][] {
  return NCHW_TO_NHWC.map((a) => [pads[a], pads[a + 4]] as [number, number]);
}
