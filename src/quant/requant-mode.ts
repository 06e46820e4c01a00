// The requantization modes: one per target's arithmetic (DESIGN.md "Integer arithmetic"). The rules themselves
// live in runtime/requant/, one file each; this is the name every layer agrees on.

export const REQUANT_MODES = Object.freeze(['tflite-double', 'tflite-single', 'tflite-builtin', 'tflite-xnnpack', 'onnx', 'a100'] as const);

export type RequantMode = (typeof REQUANT_MODES)[number];
