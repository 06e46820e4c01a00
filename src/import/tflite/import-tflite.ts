// Reads a float TFLite model (NHWC) into flexq's graph IR (NCHW), the same IR the ONNX importer produces.
import { fail } from '../../errors.js';
import { buildGraph } from '../../ir/build.js';
import type { Graph, Value } from '../../ir/graph.js';
import { checkShape } from '../../ir/limits.js';
import { formatShape, type Dim } from '../../ir/shape.js';
import type { ImportOptions } from '../options.js';
import {
  BuiltinOperator,
  TensorType,
  builtinOperatorName,
  readTfliteModel,
  tensorTypeName,
  type TfliteModel,
  type TfliteOperator,
  type TfliteSubGraph,
} from './reader.js';
import { NHWC_TO_NCHW } from '../../ir/layout.js';
import { TfliteGraphBuilder } from './graph-builder.js';
import { CONVERTERS, CUSTOM_CONVERTERS, converterOf, type OpConverter } from './op-rules.js';

function corruptIndex(source: string, what: string): never {
  return fail('MODEL_INVALID', `${source}: ${what}; the file is corrupt: re-export the model`);
}

/** Checks every index the subgraph holds (opcode, tensor, buffer) so conversion can follow them blind. */
export function checkIndices(source: string, model: TfliteModel, sg: TfliteSubGraph): void {
  const tensorCount = sg.tensors.length;
  sg.tensors.forEach((t, i) => {
    if (!Number.isInteger(t.buffer) || t.buffer < 0 || t.buffer >= model.buffers.length)
      corruptIndex(source, `tensor ${i} '${t.name}' uses buffer ${t.buffer}, but the model has ${model.buffers.length}`);
    // Every stated shape is checked before any buffer is decoded or any IR shape is built from it.
    checkShape(t.shape, `${source}: tensor ${i} '${t.name}'`);
  });
  if (sg.inputs.length === 0) fail('MODEL_INVALID', `${source}: the subgraph has no inputs, so there is nothing to feed it or calibrate on; re-convert the model with its input`);
  if (sg.outputs.length === 0) fail('MODEL_INVALID', `${source}: the subgraph has no outputs, so there is nothing to compute or quantize; re-convert the model with its outputs`);
  const checkTensor = (i: number, what: string, optional: boolean): void => {
    if (i >= tensorCount || i < (optional ? -1 : 0)) corruptIndex(source, `${what} refers to tensor ${i}, but the subgraph has ${tensorCount}`);
  };
  sg.inputs.forEach((i) => checkTensor(i, 'a graph input', false));
  sg.outputs.forEach((i) => checkTensor(i, 'a graph output', false));
  sg.operators.forEach((op, k) => {
    if (op.opcodeIndex >= model.operatorCodes.length)
      corruptIndex(source, `operator ${k} uses operator code ${op.opcodeIndex}, but the model has ${model.operatorCodes.length}`);
    if (op.outputs.length === 0) corruptIndex(source, `operator ${k} has no output`);
    op.inputs.forEach((i) => checkTensor(i, `operator ${k}`, true));
    op.outputs.forEach((i) => checkTensor(i, `operator ${k}`, false));
  });
}

function operatorLabel(model: TfliteModel, op: TfliteOperator): string {
  const code = model.operatorCodes[op.opcodeIndex];
  return code.builtinCode === BuiltinOperator.CUSTOM ? `CUSTOM '${code.customCode}'` : builtinOperatorName(code.builtinCode);
}

/** Lists every operator flexq cannot convert, all at once. */
function checkSupported(source: string, model: TfliteModel, sg: TfliteSubGraph, converters: ReadonlyMap<number, OpConverter>): void {
  const unsupported = sg.operators.flatMap((op, k) =>
    converterOf(model.operatorCodes[op.opcodeIndex], converters)
      ? []
      : [`#${k} ${operatorLabel(model, op)} (output '${sg.tensors[op.outputs[0]].name}')`],
  );
  if (unsupported.length === 0) return;
  const supported = [...[...converters.keys()].map(builtinOperatorName), ...[...CUSTOM_CONVERTERS.keys()].map((c) => `CUSTOM '${c}'`)].sort().join(', ');
  const integerHint = unsupported.some((u) => u.includes(' QUANTIZE '))
    ? ' QUANTIZE marks an integer-quantized model: eval, run and validate open it as an int8 artefact; to quantize, give flexq the float model.'
    : '';
  fail('UNSUPPORTED_OP', `${source}: ${unsupported.length} operator(s) are not supported by flexq's TFLite importer: ${unsupported.join(', ')}. Supported: ${supported}.${integerHint}`);
}

/** Graph inputs and operator outputs must be float: an int8-activation model is already quantized. */
function checkFloatActivations(source: string, sg: TfliteSubGraph): void {
  const activations = [...sg.inputs, ...sg.operators.flatMap((op) => op.outputs)];
  const integer = activations.find((i) => sg.tensors[i].type !== TensorType.FLOAT32);
  if (integer === undefined) return;
  const t = sg.tensors[integer];
  fail(
    'UNSUPPORTED_ATTR',
    `${source}: activation tensor '${t.name}' is ${tensorTypeName(t.type)}, expected FLOAT32: this is an integer-quantized model, ` +
      'and flexq imports float models (it quantizes them itself): pass the float .tflite or .onnx model',
  );
}

// ---- Graph inputs ----------------------------------------------------------------------------------------

/**
 * The IR shape of a graph input: NCHW for rank 4. TFLite stores a usable size (1) for a dynamic batch,
 * which flexq keeps unless `options.inputShape` (NCHW) sets it; the other dims are fixed by the converter.
 */
function graphInputValue(b: TfliteGraphBuilder, i: number, options: ImportOptions): Value {
  const t = b.tensor(i);
  const name = b.valueNames[i];
  const signature = t.shapeSignature ?? t.shape;
  if (signature.some((d, k) => d < 0 && k > 0))
    fail(
      'UNSUPPORTED_ATTR',
      `${b.source}: input '${name}' has shape ${formatShape(signature)}: only the batch dimension may be dynamic in a TFLite model; ` +
        're-convert the model with a fixed input size',
    );
  const toIr = (dims: readonly number[]): number[] => (dims.length === 4 ? NHWC_TO_NCHW.map((a) => dims[a]) : [...dims]);
  const fixed = b.nchwInputs.has(i) ? [...t.shape] : toIr(t.shape);
  const requested = options.inputShape;
  if (!requested) return { name, dtype: 'float32', shape: fixed };
  if (b.subgraph.inputs.length !== 1)
    fail('BAD_ARGUMENT', `${b.source}: --input-shape needs a model with one input; this one has ${b.subgraph.inputs.length}`);
  if (requested.length !== fixed.length)
    fail('BAD_ARGUMENT', `${b.source}: --input-shape has ${requested.length} dims but input '${name}' is ${formatShape(fixed)} (NCHW)`);
  const batchDynamic = signature[0] < 0;
  const shape: Dim[] = fixed.map((d, k) => {
    if (k === 0 && batchDynamic) return requested[k];
    if (requested[k] !== d)
      fail('BAD_ARGUMENT', `${b.source}: --input-shape gives ${requested[k]} for dim ${k} of input '${name}' ${formatShape(fixed)} (NCHW), which the model fixes at ${d}`);
    return d;
  });
  return { name, dtype: 'float32', shape };
}

/** Reads a float TFLite flatbuffer into an NCHW graph; `source` (the file path) names the file in every error. */
export function importTflite(bytes: Uint8Array, source: string, options: ImportOptions = {}): Graph {
  const model = readTfliteModel(bytes, source);
  const sg = firstSubgraph(source, model);
  checkIndices(source, model, sg);
  checkFloatActivations(source, sg);
  return convertSubgraph(source, model, sg, CONVERTERS, options).graph;
}

export function firstSubgraph(source: string, model: TfliteModel): TfliteSubGraph {
  return model.subgraphs[0] ?? fail('MODEL_INVALID', `${source}: the model has no subgraph; re-export the model`);
}

/** Converts a checked subgraph operator by operator with `converters`; the builder keeps what the int8 importer needs. */
export function convertSubgraph(
  source: string,
  model: TfliteModel,
  sg: TfliteSubGraph,
  converters: ReadonlyMap<number, OpConverter>,
  options: ImportOptions,
): { graph: Graph; builder: TfliteGraphBuilder } {
  checkIndices(source, model, sg);
  checkSupported(source, model, sg, converters);
  const b = new TfliteGraphBuilder(source, model, sg);
  const inputs = sg.inputs.map((i) => graphInputValue(b, i, options));
  sg.operators.forEach((op, index) => {
    const code = model.operatorCodes[op.opcodeIndex];
    converterOf(code, converters)!(b, { index, op, code: code.builtinCode, customCode: code.customCode });
  });
  const graph = buildGraph({
    name: sg.name || 'main',
    source,
    inputs,
    constants: b.constants,
    nodes: b.nodes,
    outputs: sg.outputs.map((i) => b.valueNames[i]),
  });
  return { graph, builder: b };
}
