// Serializes a ModelSpec into TFLite flatbuffer bytes with the `flatbuffers` builder, using the field ids and enums
// that the reader uses too (src/tflite/schema.ts). Deterministic: the same spec gives the same bytes.
// Buffer 0 is the empty buffer every TFLite model starts with; constants get one buffer each, 16-byte aligned
// (schema.fbs: Buffer.data force_align 16) so kernels may read them in place.

import * as flatbuffers from 'flatbuffers';
import { BuiltinOperator, FIELD, TFLITE_FILE_IDENTIFIER, TFLITE_SCHEMA_VERSION } from '../../tflite/schema.js';
import type { ModelSpec, OperatorSpec, OptionField, TensorSpec } from './model-spec.js';

export type Field = readonly [id: number, write: (b: flatbuffers.Builder, id: number) => void];

export const int8Field = (id: number, v: number): Field => [id, (b) => b.addFieldInt8(id, v, null)];
export const int32Field = (id: number, v: number): Field => [id, (b) => b.addFieldInt32(id, v, null)];
export const uint32Field = (id: number, v: number): Field => [id, (b) => b.addFieldInt32(id, v | 0, null)];
const float32Field = (id: number, v: number): Field => [id, (b) => b.addFieldFloat32(id, v, null)];
export const offsetField = (id: number, v: number): Field => [id, (b) => b.addFieldOffset(id, v, 0)];

/** A table with the given fields (any order); absent fields take the schema defaults. */
export function table(b: flatbuffers.Builder, fields: readonly Field[]): number {
  b.startObject(fields.reduce((n, [id]) => Math.max(n, id + 1), 0));
  for (const [id, write] of fields) write(b, id);
  return b.endObject();
}

export function int32Vector(b: flatbuffers.Builder, values: readonly number[]): number {
  b.startVector(4, values.length, 4);
  for (let i = values.length - 1; i >= 0; i--) b.addInt32(values[i]);
  return b.endVector();
}

function float32Vector(b: flatbuffers.Builder, values: readonly number[]): number {
  b.startVector(4, values.length, 4);
  for (let i = values.length - 1; i >= 0; i--) b.addFloat32(values[i]);
  return b.endVector();
}

function int64Vector(b: flatbuffers.Builder, values: readonly number[]): number {
  b.startVector(8, values.length, 8);
  for (let i = values.length - 1; i >= 0; i--) b.addInt64(BigInt(values[i]));
  return b.endVector();
}

export function offsetVector(b: flatbuffers.Builder, offsets: readonly number[]): number {
  b.startVector(4, offsets.length, 4);
  for (let i = offsets.length - 1; i >= 0; i--) b.addOffset(offsets[i]);
  return b.endVector();
}

export function bytesVector(b: flatbuffers.Builder, bytes: Uint8Array, alignment: number): number {
  b.startVector(1, bytes.length, alignment);
  for (let i = bytes.length - 1; i >= 0; i--) b.addInt8(bytes[i]);
  return b.endVector();
}

function bufferTable(b: flatbuffers.Builder, data: Uint8Array): number {
  return table(b, [offsetField(FIELD.Buffer.data, bytesVector(b, data, 16))]);
}

export function tensorTable(b: flatbuffers.Builder, t: TensorSpec, buffer: number): number {
  const fields: Field[] = [
    offsetField(FIELD.Tensor.shape, int32Vector(b, t.shape)),
    int8Field(FIELD.Tensor.type, t.type),
    uint32Field(FIELD.Tensor.buffer, buffer),
    offsetField(FIELD.Tensor.name, b.createString(t.name)),
  ];
  if (t.quantization) {
    const q = FIELD.QuantizationParameters;
    const { channels } = t.quantization;
    const scales = channels ? Array.from(channels.scales) : [t.quantization.scale];
    const quantization = table(b, [
      offsetField(q.scale, float32Vector(b, scales)),
      offsetField(q.zero_point, int64Vector(b, channels ? scales.map(() => 0) : [t.quantization.zeroPoint])),
      int32Field(q.quantized_dimension, channels?.dimension ?? 0),
    ]);
    fields.push(offsetField(FIELD.Tensor.quantization, quantization));
  }
  return table(b, fields);
}

function optionField(b: flatbuffers.Builder, f: OptionField): Field {
  switch (f.kind) {
    case 'int8':
    case 'bool':
      return int8Field(f.id, f.value);
    case 'int32':
      return int32Field(f.id, f.value);
    case 'float32':
      return float32Field(f.id, f.value);
    case 'int32-vector':
      return offsetField(f.id, int32Vector(b, f.value));
  }
}

function operatorTable(b: flatbuffers.Builder, o: OperatorSpec, opcodeIndex: number): number {
  const fields: Field[] = [
    uint32Field(FIELD.Operator.opcode_index, opcodeIndex),
    offsetField(FIELD.Operator.inputs, int32Vector(b, o.inputs)),
    offsetField(FIELD.Operator.outputs, int32Vector(b, o.outputs)),
  ];
  if (o.options) {
    const options = table(b, o.options.fields.map((f) => optionField(b, f)));
    fields.push(int8Field(FIELD.Operator.builtin_options_type, o.options.type), offsetField(FIELD.Operator.builtin_options, options));
  }
  return table(b, fields);
}

/** One OperatorCode per (code, version), in order of first use. */
function operatorCodes(operators: readonly OperatorSpec[]): { codes: { code: number; version: number }[]; indexOf: (o: OperatorSpec) => number } {
  const keys: string[] = [];
  const codes: { code: number; version: number }[] = [];
  for (const o of operators) {
    const key = `${o.code}:${o.version}`;
    if (!keys.includes(key)) {
      keys.push(key);
      codes.push({ code: o.code, version: o.version });
    }
  }
  return { codes, indexOf: (o) => keys.indexOf(`${o.code}:${o.version}`) };
}

export function operatorCodeTable(b: flatbuffers.Builder, code: number, version: number): number {
  const f = FIELD.OperatorCode;
  return table(b, [
    // Old readers look only at the int8 field; codes above 127 live in builtin_code alone.
    int8Field(f.deprecated_builtin_code, Math.min(code, BuiltinOperator.PLACEHOLDER_FOR_GREATER_OP_CODES)),
    int32Field(f.version, version),
    int32Field(f.builtin_code, code),
  ]);
}

export function serializeTflite(spec: ModelSpec): Uint8Array {
  const b = new flatbuffers.Builder(1 << 16);
  const buffers = [table(b, [])];
  const tensorBuffer = spec.tensors.map((t) => {
    if (!t.data) return 0;
    buffers.push(bufferTable(b, t.data));
    return buffers.length - 1;
  });
  const metadata = [...spec.metadata].map(([name, data]) => {
    buffers.push(bufferTable(b, data));
    return table(b, [offsetField(FIELD.Metadata.name, b.createString(name)), uint32Field(FIELD.Metadata.buffer, buffers.length - 1)]);
  });
  const tensors = spec.tensors.map((t, i) => tensorTable(b, t, tensorBuffer[i]));
  const { codes, indexOf } = operatorCodes(spec.operators);
  const operators = spec.operators.map((o) => operatorTable(b, o, indexOf(o)));
  const sg = FIELD.SubGraph;
  const subgraph = table(b, [
    offsetField(sg.tensors, offsetVector(b, tensors)),
    offsetField(sg.inputs, int32Vector(b, spec.inputs)),
    offsetField(sg.outputs, int32Vector(b, spec.outputs)),
    offsetField(sg.operators, offsetVector(b, operators)),
    offsetField(sg.name, b.createString('main')),
  ]);
  const m = FIELD.Model;
  const model = table(b, [
    uint32Field(m.version, TFLITE_SCHEMA_VERSION),
    offsetField(m.operator_codes, offsetVector(b, codes.map((c) => operatorCodeTable(b, c.code, c.version)))),
    offsetField(m.subgraphs, offsetVector(b, [subgraph])),
    offsetField(m.description, b.createString(spec.description)),
    offsetField(m.buffers, offsetVector(b, buffers)),
    offsetField(m.metadata, offsetVector(b, metadata)),
  ]);
  b.finish(model, TFLITE_FILE_IDENTIFIER);
  return b.asUint8Array().slice();
}
