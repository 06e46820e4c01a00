export type DType = 'float32' | 'int64' | 'int32' | 'int8' | 'uint8' | 'bool';

export type TensorData = Float32Array | BigInt64Array | Int32Array | Int8Array | Uint8Array;

const ARRAY_OF: Record<DType, new (n: number) => TensorData> = {
  float32: Float32Array,
  int64: BigInt64Array,
  int32: Int32Array,
  int8: Int8Array,
  uint8: Uint8Array,
  bool: Uint8Array,
};

export function allocate(dtype: DType, size: number): TensorData {
  return new ARRAY_OF[dtype](size);
}

/** Reads any tensor data as plain numbers (int64 values beyond 2^53 lose precision; shapes never reach that). */
export function toNumbers(data: TensorData): number[] {
  return Array.from(data as ArrayLike<number | bigint>, Number);
}

/** Builds typed data of `dtype` from plain numbers, truncating toward zero for integer types as ONNX Cast does. */
export function fromNumbers(dtype: DType, values: readonly number[]): TensorData {
  if (dtype === 'int64') return BigInt64Array.from(values, (v) => BigInt(Math.trunc(v)));
  const out = allocate(dtype, values.length) as Exclude<TensorData, BigInt64Array>;
  for (let i = 0; i < values.length; i++) out[i] = dtype === 'float32' ? values[i] : Math.trunc(values[i]);
  return out;
}
