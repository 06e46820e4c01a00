import type { onnx } from 'onnx-proto';
import { fail } from '../../errors.js';
import { allocate, type DType, type TensorData } from '../../ir/dtype.js';
import type { Value } from '../../ir/graph.js';
import { checkFinite, checkShape } from '../../ir/limits.js';
import { sizeOf } from '../../ir/shape.js';

type Long = { toNumber(): number };
/** protobufjs gives int64 fields as Long objects or numbers depending on the installed `long` package. */
export function int64(v: number | Long | null | undefined): number {
  return v === null || v === undefined ? 0 : typeof v === 'number' ? v : v.toNumber();
}

/** ONNX TensorProto.DataType → flexq DType (the types the supported models use). */
const DTYPE_OF: Readonly<Record<number, DType>> = { 1: 'float32', 2: 'uint8', 3: 'int8', 6: 'int32', 7: 'int64', 9: 'bool', 11: 'float32' };
const ONNX_NAME: Readonly<Record<number, string>> = { 1: 'FLOAT', 2: 'UINT8', 3: 'INT8', 4: 'UINT16', 5: 'INT16', 6: 'INT32', 7: 'INT64', 8: 'STRING', 9: 'BOOL', 10: 'FLOAT16', 11: 'DOUBLE', 12: 'UINT32', 13: 'UINT64' };

export function dtypeOf(code: number, where: string): DType {
  const t = DTYPE_OF[code];
  if (!t) return fail('UNSUPPORTED_ATTR', `${where}: element type ${ONNX_NAME[code] ?? code} is not supported; supported: FLOAT, DOUBLE (read as float32), UINT8, INT8, INT32, INT64, BOOL`);
  return t;
}

/** Bytes of raw_data (little-endian, as ONNX stores it) reinterpreted as `dtype`, copied to an aligned buffer. */
function fromRaw(dtype: DType, code: number, raw: Uint8Array, size: number): TensorData {
  const bytes = new Uint8Array(raw).buffer; // a copy: protobufjs hands out Buffer views into the whole file
  if (code === 11) return Float32Array.from(new Float64Array(bytes, 0, size));
  const out = allocate(dtype, size);
  new Uint8Array(out.buffer).set(raw.subarray(0, out.byteLength));
  return out;
}

/** The typed field ONNX keeps a `dtype` tensor's values in when it has no raw_data. */
function typedField(dtype: DType, t: onnx.ITensorProto): ArrayLike<number | Long> {
  return (dtype === 'float32' ? (t.dataType === 11 ? t.doubleData : t.floatData) : dtype === 'int64' ? t.int64Data : t.int32Data) ?? [];
}

function fromTyped(dtype: DType, t: onnx.ITensorProto, size: number): TensorData {
  const src = typedField(dtype, t);
  const out = allocate(dtype, size);
  for (let i = 0; i < size; i++) {
    const v = int64(src[i] as number | Long);
    if (out instanceof BigInt64Array) out[i] = BigInt(v);
    else out[i] = v;
  }
  return out;
}

/** Decodes an initializer or Constant value; `where` names the file and tensor for errors. */
export function decodeTensor(t: onnx.ITensorProto, name: string, where: string): Value {
  if (!name) return fail('MODEL_INVALID', `${where}: an initializer has no name, so no node can read it; the file is damaged: re-export the model`);
  const code = t.dataType ?? 0;
  const dtype = dtypeOf(code, `${where}: tensor '${name}'`);
  const shape = (t.dims ?? []).map((d) => int64(d as number | Long));
  // Checked before anything is allocated: a damaged dim must not become a gigabyte typed array.
  checkShape(shape, `${where}: tensor '${name}'`);
  const size = sizeOf(shape);
  if (t.dataLocation === 1 || (t.externalData?.length ?? 0) > 0)
    return fail('MODEL_INVALID', `${where}: tensor '${name}' keeps its data in an external file; save the model with its weights inside (onnx.save_model(..., save_as_external_data=False))`);
  const raw = t.rawData ?? new Uint8Array(0);
  const width = code === 11 ? 8 : allocate(dtype, 0).BYTES_PER_ELEMENT;
  if (raw.length > 0) {
    if (raw.length !== size * width)
      return fail('MODEL_INVALID', `${where}: tensor '${name}' has ${raw.length} bytes of raw_data, expected ${size * width} for shape [${shape}] of ${ONNX_NAME[code]}; the file is damaged`);
    return finite({ name, dtype, shape, data: fromRaw(dtype, code, raw, size) }, where);
  }
  const typedLength = typedField(dtype, t).length;
  if (typedLength !== size)
    return fail('MISSING_TENSOR', `${where}: tensor '${name}' has ${typedLength} values, expected ${size} for shape [${shape}]; the initializer data is missing or damaged`);
  return finite({ name, dtype, shape, data: fromTyped(dtype, t, size) }, where);
}

function finite(v: Value, where: string): Value {
  checkFinite(v.name, v.dtype, v.data!, where);
  return v;
}
