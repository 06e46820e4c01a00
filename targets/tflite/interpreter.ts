// One TFLite interpreter with a model loaded: a float32 tensor in, float32 tensors out (flexq's exported models
// quantize their input and dequantize their outputs inside: ExportOptions io 'float').

export interface TfliteInterpreter {
  /** What runs the model, for messages: `LiteRT.js 2.5.3 (XNNPACK)`. */
  readonly name: string;
  /** Lines the interpreter printed while it loaded this model (TFLite's INFO / WARNING / ERROR log). */
  readonly loadLog: readonly string[];
  /** Runs one sample of the model's only input (its TFLite layout, NHWC for images); returns every output. */
  run(input: Float32Array): Promise<Float32Array[]>;
  dispose(): void;
}

/** Log lines that report a problem (TFLite prefixes them WARNING: or ERROR:). */
export function problems(log: readonly string[]): string[] {
  return log.filter((line) => /^(WARNING|ERROR)\b/.test(line.trim()));
}
