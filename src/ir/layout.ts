// The IR is NCHW; TFLite and TensorFlow.js are NHWC. These are the one pair of axis maps between the two: output
// axis i takes input axis PERM[i] (NHWC_TO_NCHW also maps OHWI conv filters to OIHW).
export const NCHW_TO_NHWC = [0, 2, 3, 1] as const;
export const NHWC_TO_NCHW = [0, 3, 1, 2] as const;
