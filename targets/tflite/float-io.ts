// A float-I/O copy of an int8 .tflite made by another tool: QUANTIZE before every INT8 graph input and DEQUANTIZE
// after every INT8 graph output, the rest of the file byte for byte. LiteRT.js maps only float32, int32 and uint8
// tensors, so it cannot even load a model with INT8 inputs; with this copy it runs the converter's own operators
// and weights, and flexq feeds it floats (on the input's grid, they quantize to the integers wanted).
//
// How: the original file is embedded whole, 16-byte aligned, at the end of a new flatbuffer; a new Model, SubGraph,
// operator-code list and tensor list in front of it point forward into it (flatbuffer offsets only point forward),
// so every original table, vector and buffer is reused as it is, at the same alignment.
import * as flatbuffers from 'flatbuffers';
import { fail } from '../../src/errors.js';
import {
  int32Vector,
  offsetField,
  offsetVector,
  operatorCodeTable,
  table,
  tensorTable,
  uint32Field,
  bytesVector,
} from '../../src/export/tflite/flatbuffer.js';
import { BuiltinOperator, FIELD, TFLITE_FILE_IDENTIFIER, TFLITE_SCHEMA_VERSION, TensorType, vtableOffset, readTfliteModel } from '../../src/import/tflite/reader.js';

/** Absolute positions of the tables in a vector-of-tables field, or [] when the field is absent. */
function tablePositions(bb: flatbuffers.ByteBuffer, tablePos: number, field: number): number[] {
  const o = bb.__offset(tablePos, vtableOffset(field));
  if (o === 0) return [];
  const start = bb.__vector(tablePos + o);
  return Array.from({ length: bb.__vector_len(tablePos + o) }, (_, i) => bb.__indirect(start + 4 * i));
}

/** Absolute position of a table or vector a field points to, or undefined when absent. */
function fieldTarget(bb: flatbuffers.ByteBuffer, tablePos: number, field: number): number | undefined {
  const o = bb.__offset(tablePos, vtableOffset(field));
  return o === 0 ? undefined : bb.__indirect(tablePos + o);
}

/**
 * The model with float32 graph inputs and outputs wherever it had INT8 ones; other models are returned as they are.
 * `outputs` (tensor indices) replaces the graph outputs, to read intermediate tensors too.
 */
export function withFloatIo(bytes: Uint8Array, source: string, outputTensors?: readonly number[]): Uint8Array {
  const model = readTfliteModel(bytes, source);
  const sg = model.subgraphs[0];
  if (!sg) return fail('MODEL_INVALID', `${source}: the model has no subgraph; re-export the model`);
  const isInt8 = (i: number): boolean => sg.tensors[i].type === TensorType.INT8;
  const graphOutputs = outputTensors ?? sg.outputs;
  if (!sg.inputs.some(isInt8) && !graphOutputs.some(isInt8) && !outputTensors) return bytes;
  for (const i of [...sg.inputs, ...graphOutputs])
    if (isInt8(i) && !sg.tensors[i].quantization)
      fail('MODEL_INVALID', `${source}: graph tensor '${sg.tensors[i].name}' is INT8 without a scale; flexq cannot give it float I/O`);

  const bb = new flatbuffers.ByteBuffer(bytes);
  const root = bb.readInt32(bb.position()) + bb.position();
  const oldCodes = tablePositions(bb, root, FIELD.Model.operator_codes);
  const [oldSubgraph, ...otherSubgraphs] = tablePositions(bb, root, FIELD.Model.subgraphs);
  const oldTensors = tablePositions(bb, oldSubgraph, FIELD.SubGraph.tensors);
  const oldOperators = tablePositions(bb, oldSubgraph, FIELD.SubGraph.operators);
  const oldBuffers = fieldTarget(bb, root, FIELD.Model.buffers);
  const oldMetadata = fieldTarget(bb, root, FIELD.Model.metadata);

  const b = new flatbuffers.Builder(bytes.length + (1 << 12));
  const padded = new Uint8Array(Math.ceil(bytes.length / 16) * 16);
  padded.set(bytes);
  const blob = bytesVector(b, padded, 16);
  // Builder offsets count from the end of the buffer: byte p of the original sits 4 (the length) + p after the blob's start.
  const original = (position: number): number => blob - 4 - position;

  const tensors = oldTensors.map(original);
  const floatTwin = (i: number): number => {
    const t = sg.tensors[i];
    tensors.push(tensorTable(b, { name: `${t.name}_float`, shape: t.shape, type: TensorType.FLOAT32 }, 0));
    return tensors.length - 1;
  };
  const quantizeCode = oldCodes.length;
  const dequantizeCode = oldCodes.length + 1;
  const operator = (code: number, input: number, output: number): number =>
    table(b, [uint32Field(FIELD.Operator.opcode_index, code), offsetField(FIELD.Operator.inputs, int32Vector(b, [input])), offsetField(FIELD.Operator.outputs, int32Vector(b, [output]))]);
  const front: number[] = [];
  const back: number[] = [];
  const inputs = sg.inputs.map((i) => {
    if (!isInt8(i)) return i;
    const x = floatTwin(i);
    front.push(operator(quantizeCode, x, i));
    return x;
  });
  const outputs = graphOutputs.map((i) => {
    if (!isInt8(i)) return i;
    const y = floatTwin(i);
    back.push(operator(dequantizeCode, i, y));
    return y;
  });
  const s = FIELD.SubGraph;
  const subgraph = table(b, [
    offsetField(s.tensors, offsetVector(b, tensors)),
    offsetField(s.inputs, int32Vector(b, inputs)),
    offsetField(s.outputs, int32Vector(b, outputs)),
    offsetField(s.operators, offsetVector(b, [...front, ...oldOperators.map(original), ...back])),
    offsetField(s.name, b.createString(sg.name || 'main')),
  ]);
  const codes = [...oldCodes.map(original), operatorCodeTable(b, BuiltinOperator.QUANTIZE, 2), operatorCodeTable(b, BuiltinOperator.DEQUANTIZE, 2)];
  const m = FIELD.Model;
  // Signature defs name the old INT8 tensors: left out, so interpreters take the subgraph's own inputs and outputs.
  const fields = [
    uint32Field(m.version, TFLITE_SCHEMA_VERSION),
    offsetField(m.operator_codes, offsetVector(b, codes)),
    offsetField(m.subgraphs, offsetVector(b, [subgraph, ...otherSubgraphs.map(original)])),
    offsetField(m.description, b.createString(model.description)),
  ];
  if (oldBuffers !== undefined) fields.push(offsetField(m.buffers, original(oldBuffers)));
  if (oldMetadata !== undefined) fields.push(offsetField(m.metadata, original(oldMetadata)));
  b.finish(table(b, fields), TFLITE_FILE_IDENTIFIER);
  return b.asUint8Array().slice();
}
