// TFLite buffers as IR constants: every element type flexq reads, INT8/UINT8 weights dequantized.
import { fail } from '../../errors.js';
import type { DType } from '../../ir/dtype.js';
import { formatShape, sizeOf } from '../../ir/shape.js';
import type { ConstTensor } from '../../ops/contract.js';
import { transposeConst } from '../../ops/transpose.js';
import {
  TensorType,
  tensorTypeName,
  type TfliteQuantization,
  type TfliteTensor,
} from './reader.js';
import { NHWC_TO_NCHW } from '../../ir/layout.js';

/** Byte width of each tensor type flexq reads constants of. */
const ELEMENT_BYTES: Readonly<Record<number, number>> = {
  [TensorType.FLOAT32]: 4,
  [TensorType.FLOAT16]: 2,
  [TensorType.INT32]: 4,
  [TensorType.INT64]: 8,
  [TensorType.INT8]: 1,
  [TensorType.UINT8]: 1,
};

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** real = scale·(q − zero_point), per tensor or per channel along quantized_dimension. */
function dequantize(q: Int8Array | Uint8Array | Int32Array, shape: readonly number[], quant: TfliteQuantization, what: string): Float32Array {
  const { scale, zeroPoint, quantizedDimension: axis } = quant;
  const channels = scale.length;
  if (channels > 1 && shape[axis] !== channels)
    fail('MODEL_INVALID', `${what} has ${channels} scales but dimension ${axis} of its shape ${formatShape(shape)} is ${shape[axis]}`);
  const inner = sizeOf(shape.slice(axis + 1));
  const out = new Float32Array(q.length);
  for (let i = 0; i < q.length; i++) {
    const c = channels === 1 ? 0 : Math.floor(i / inner) % channels;
    out[i] = scale[c] * (q[i] - (zeroPoint[zeroPoint.length === 1 ? 0 : c] ?? 0));
  }
  return out;
}

/**
 * Decodes a constant tensor's buffer into real values in TFLite layout: float16 is widened to float32 and
 * int8/uint8 weights and int32 biases with a scale (dynamic-range and int8 models) are dequantized. Assumes a little-endian host, as TFLite does.
 */
export function decodeConstant(t: TfliteTensor, bytes: Uint8Array, source: string): ConstTensor {
  const shape = t.shape;
  const what = `${source}: constant tensor '${t.name}'`;
  const width = ELEMENT_BYTES[t.type];
  if (width === undefined) fail('UNSUPPORTED_ATTR', `${what} has type ${tensorTypeName(t.type)}; supported: FLOAT32, FLOAT16, INT32, INT64, INT8, UINT8`);
  if (bytes.length !== sizeOf(shape) * width)
    fail('MODEL_INVALID', `${what} has shape ${formatShape(shape)} of ${tensorTypeName(t.type)} (${sizeOf(shape) * width} bytes) but its buffer holds ${bytes.length} bytes`);
  const aligned = new Uint8Array(bytes).buffer; // a copy starts at offset 0, so typed views are aligned (Buffer.slice would not copy)
  const float = (data: Float32Array): ConstTensor => ({ dtype: 'float32', shape, data });
  const raw = (dtype: DType, data: ConstTensor['data']): ConstTensor => ({ dtype, shape, data });
  switch (t.type) {
    case TensorType.FLOAT32:
      return float(new Float32Array(aligned));
    case TensorType.FLOAT16:
      return float(Float32Array.from(new Uint16Array(aligned), halfToFloat));
    case TensorType.INT32:
      return t.quantization ? float(dequantize(new Int32Array(aligned), shape, t.quantization, what)) : raw('int32', new Int32Array(aligned));
    case TensorType.INT64:
      return raw('int64', new BigInt64Array(aligned));
    case TensorType.INT8:
      return t.quantization ? float(dequantize(new Int8Array(aligned), shape, t.quantization, what)) : raw('int8', new Int8Array(aligned));
    default: // UINT8, the last type ELEMENT_BYTES admits
      return t.quantization ? float(dequantize(new Uint8Array(aligned), shape, t.quantization, what)) : raw('uint8', new Uint8Array(aligned));
  }
}

/** Re-lays a constant that broadcasts against a rank-4 NHWC tensor so it broadcasts alike against NCHW ([C] → [C,1,1]). */
export function nchwBroadcastConstant(c: ConstTensor): ConstTensor {
  const padded = [...Array<number>(4 - c.shape.length).fill(1), ...c.shape];
  const nchw = transposeConst({ ...c, shape: padded }, NHWC_TO_NCHW);
  let shape = nchw.shape;
  while (shape.length > c.shape.length && shape[0] === 1) shape = shape.slice(1);
  return { ...nchw, shape };
}
