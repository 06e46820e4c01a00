// A TFLite model as plain data, between lowering (lower.ts: QuantizedGraph → this) and serialization
// (flatbuffer.ts: this → bytes). One subgraph; every tensor has a static shape.

/** Affine quantization: real = scale · (q − zeroPoint), per tensor or, with `channels`, per index of one dimension. */
export interface TensorQuantization {
  readonly scale: number;
  readonly zeroPoint: number;
  /** Per-channel scales along `dimension` (zero points 0): weights and biases of per-channel layers. */
  readonly channels?: { readonly scales: ArrayLike<number>; readonly dimension: number };
}

export interface TensorSpec {
  readonly name: string;
  /** NHWC for rank-4 activations, OHWI / 1HWO for convolution filters. */
  readonly shape: readonly number[];
  /** A TensorType code (src/tflite/schema.ts). */
  readonly type: number;
  readonly quantization?: TensorQuantization;
  /** Constant contents, little-endian; absent for activations. */
  readonly data?: Uint8Array;
}

/** A scalar field of an options table, or a vector of int32. */
export type OptionField =
  | { readonly id: number; readonly kind: 'int8' | 'int32' | 'bool' | 'float32'; readonly value: number }
  | { readonly id: number; readonly kind: 'int32-vector'; readonly value: readonly number[] };

export interface OperatorSpec {
  /** A BuiltinOperator code. */
  readonly code: number;
  /** The operator version the TFLite converter gives this op with int8 tensors (OperatorCode.version). */
  readonly version: number;
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
  /** A BuiltinOptionsType tag and its table's fields; absent for ops without options. */
  readonly options?: { readonly type: number; readonly fields: readonly OptionField[] };
}

export interface ModelSpec {
  readonly tensors: readonly TensorSpec[];
  readonly operators: readonly OperatorSpec[];
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
  readonly description: string;
  /** Named metadata buffers (Model.metadata). */
  readonly metadata: ReadonlyMap<string, Uint8Array>;
}
