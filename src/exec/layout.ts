/**
 * The float executor keeps rank-4 tensors NHWC (TensorFlow.js convolutions are NHWC-only) while the IR
 * is NCHW. These are the index maps between the two.
 */
export const NCHW_TO_NHWC = [0, 2, 3, 1] as const;
export const NHWC_TO_NCHW = [0, 3, 1, 2] as const;

/** The NHWC position of NCHW axis `a` (C moves last). */
export function nhwcAxis(a: number): number {
  return [0, 3, 1, 2][a];
}

/** ONNX pads [x1_begin…x4_begin, x1_end…x4_end] of an NCHW tensor → tf.pad pairs for its NHWC twin. */
export function nhwcPadPairs(pads: readonly number[]): [number, number][] {
  return NCHW_TO_NHWC.map((a) => [pads[a], pads[a + 4]] as [number, number]);
}
