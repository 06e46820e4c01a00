/** A float32 tensor, row-major: what executors and tensor backends take and give. */
export interface FloatTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}
