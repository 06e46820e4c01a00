// Reads an int8 TFLite model (the TFLite converter's full-integer quantization: int8 activations, int8 weights per
// tensor or per output channel, int32 biases, QUANTIZE / DEQUANTIZE at the ends) into a QuantizedGraph.
// The float importer's op rules build the graph from the dequantized constants; the integers and grids then come
// straight from the file: weights and biases re-laid exactly as their float constants were, activations from their
// tensors' quantization. So the integer runtime, the exporters and validate read the converter's own numbers.
import { fail } from '../../errors.js';
import type { Graph, Node } from '../../ir/graph.js';
import type { ActivationQuant, QuantizedBias, QuantizedGraph, QuantizedWeight } from '../../ir/quantized-graph.js';
import { optimizeGraph } from '../../passes/pipeline.js';
import { FLEXQ_VERSION } from '../../version.js';
import type { ImportOptions } from '../options.js';
import { decodeConstant } from './constants.js';
import type { TfliteGraphBuilder } from './graph-builder.js';
import { convertSubgraph, firstSubgraph } from './import-tflite.js';
import { CONVERTERS, type OpConverter } from './op-rules.js';
import { BuiltinOperator, TensorType, readTfliteModel, tensorTypeName, type TfliteModel, type TfliteSubGraph, type TfliteTensor } from './reader.js';

/** QUANTIZE of the float graph input and DEQUANTIZE of an int8 output carry values through: the grids say the rest. */
const passThrough: OpConverter = (b, site) => {
  b.emit('Identity', [b.valueNames[b.input(site, 0, 'input')]], b.output(site));
};

/** DEQUANTIZE of a constant folds (the float importer's rule); of an activation it passes the value through. */
const dequantize: OpConverter = (b, site) => {
  const x = b.input(site, 0, 'input');
  if (b.constant(x)) CONVERTERS.get(BuiltinOperator.DEQUANTIZE)!(b, site);
  else passThrough(b, site);
};

export const INT8_CONVERTERS: ReadonlyMap<number, OpConverter> = new Map<number, OpConverter>([
  ...CONVERTERS,
  [BuiltinOperator.QUANTIZE, passThrough],
  [BuiltinOperator.DEQUANTIZE, dequantize],
]);

/** Ops that move int8 values without changing them: their output lives on their input's grid. */
const LAYOUT_OPS = new Set(['Identity', 'Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Transpose']);
/** Fused activations become a node after their op (a pass fuses them back): the op's output shares the activation's grid. */
const ACTIVATION_OPS = new Set(['Relu', 'Clip']);
const WEIGHTED_OPS = new Set(['Conv', 'Gemm', 'MatMul']);

/** True when the model computes in integers: some graph input or operator output is INT8. */
export function isInt8Tflite(bytes: Uint8Array, source: string): boolean {
  const model = readTfliteModel(bytes, source);
  const sg = model.subgraphs[0];
  if (!sg) return false;
  return [...sg.inputs, ...sg.operators.flatMap((op) => op.outputs)].some((i) => sg.tensors[i]?.type === TensorType.INT8);
}

/** Imports an int8 .tflite into the QuantizedGraph; `source` (the file path) names the file in every error. */
export function importTfliteInt8(bytes: Uint8Array, source: string, options: ImportOptions = {}): QuantizedGraph {
  const model = readTfliteModel(bytes, source);
  const sg = firstSubgraph(source, model);
  const { graph: imported, builder } = convertSubgraph(source, model, sg, INT8_CONVERTERS, options);
  const tensorGrids = activationGrids(source, model, sg);
  const graph = optimizeGraph(imported);
  const { weights, biases } = quantizedConstants(graph, builder);
  return {
    graph,
    activations: graphGrids(graph, builder, tensorGrids),
    weights,
    biases,
    info: { flexqVersion: FLEXQ_VERSION, method: 'imported', wbits: 8, abits: 8, seed: 0, model: source, calibrationSamples: 0 },
  };
}

function tensorWhere(source: string, sg: TfliteSubGraph, i: number): string {
  return `${source}: tensor ${i} '${sg.tensors[i].name}'`;
}

/** The grid of an int8 activation tensor: per tensor, int8 storage. */
function int8Grid(source: string, sg: TfliteSubGraph, i: number): ActivationQuant {
  const t = sg.tensors[i];
  const q = t.quantization;
  if (t.type !== TensorType.INT8 || !q || q.scale.length !== 1)
    fail(
      'UNSUPPORTED_ATTR',
      `${tensorWhere(source, sg, i)} is ${tensorTypeName(t.type)}${q && q.scale.length > 1 ? ` with ${q.scale.length} scales` : q ? '' : ' without quantization'}; ` +
        'flexq imports int8 models whose activations are INT8 with one scale and zero point (the TFLite converter full-integer quantization): re-convert with int8 activations',
    );
  return { scale: Math.fround(q.scale[0]), zeroPoint: q.zeroPoint[0] ?? 0, bits: 8, qmin: -128, qmax: 127 };
}

/**
 * The grid of every activation tensor: INT8 tensors carry their own; a FLOAT32 graph input takes the grid its
 * QUANTIZE quantizes it to, and a FLOAT32 DEQUANTIZE output the grid of the int8 value it dequantizes.
 */
function activationGrids(source: string, model: TfliteModel, sg: TfliteSubGraph): Map<number, ActivationQuant> {
  const grids = new Map<number, ActivationQuant>();
  const codeOf = (k: number): number => model.operatorCodes[sg.operators[k].opcodeIndex].builtinCode;
  sg.operators.forEach((op, k) => {
    const code = codeOf(k);
    const [x, y] = [op.inputs[0], op.outputs[0]];
    if (code === BuiltinOperator.QUANTIZE) {
      const out = int8Grid(source, sg, y);
      if (sg.tensors[x].type === TensorType.FLOAT32 && sg.inputs.includes(x)) grids.set(x, out);
      else if (!sameGrid(int8Grid(source, sg, x), out))
        fail('UNSUPPORTED_OP', `${source}: operator ${k} (QUANTIZE) re-quantizes '${sg.tensors[x].name}' to another grid; flexq imports QUANTIZE only of the float graph input`);
      grids.set(y, out);
    } else if (code === BuiltinOperator.DEQUANTIZE) {
      if (model.buffers[sg.tensors[x].buffer].data.length > 0) return; // a constant, folded
      grids.set(y, int8Grid(source, sg, x));
    } else {
      for (const o of op.outputs) grids.set(o, int8Grid(source, sg, o));
    }
  });
  for (const i of sg.inputs) if (!grids.has(i)) grids.set(i, int8Grid(source, sg, i));
  return grids;
}

function sameGrid(a: ActivationQuant, b: ActivationQuant): boolean {
  return a.scale === b.scale && a.zeroPoint === b.zeroPoint;
}

/** The grid of every graph input and node output after the passes, from the tensor each IR value was named after. */
function graphGrids(graph: Graph, b: TfliteGraphBuilder, tensorGrids: ReadonlyMap<number, ActivationQuant>): Map<string, ActivationQuant> {
  const grids = new Map<string, ActivationQuant>();
  b.valueNames.forEach((name, i) => {
    const grid = tensorGrids.get(i);
    if (grid && graph.values.has(name)) grids.set(name, grid);
  });
  // A pre-activation value has no tensor of its own: TFLite clamps the op's output on the activation's grid.
  for (const n of [...graph.nodes].reverse())
    if (ACTIVATION_OPS.has(n.op) && !grids.has(n.inputs[0]) && grids.has(n.outputs[0])) grids.set(n.inputs[0], grids.get(n.outputs[0])!);
  for (const n of graph.nodes) {
    const y = n.outputs[0];
    if (grids.has(y)) continue;
    if (!LAYOUT_OPS.has(n.op) || !grids.has(n.inputs[0]))
      fail('MISSING_TENSOR', `${graph.source}: node '${n.name}' (${n.op}) writes '${y}', which has no int8 tensor in the model; flexq cannot give it a grid`);
    grids.set(y, grids.get(n.inputs[0])!);
  }
  return grids;
}

/** The integers of every weight and bias of a Conv, Gemm or MatMul, re-laid as the importer re-laid their float values. */
function quantizedConstants(graph: Graph, b: TfliteGraphBuilder): { weights: Map<string, QuantizedWeight>; biases: Map<string, QuantizedBias> } {
  const weights = new Map<string, QuantizedWeight>();
  const biases = new Map<string, QuantizedBias>();
  for (const n of graph.nodes) {
    if (!WEIGHTED_OPS.has(n.op)) continue;
    const w = n.inputs[1];
    weights.set(w, quantizedWeight(graph, b, n, w));
    const bias = n.inputs[2];
    if (bias) biases.set(bias, quantizedBias(graph, b, n, bias, weights.get(w)!));
  }
  return { weights, biases };
}

/** A constant's integers as stored (int8 or int32), in the IR layout, with its tensor and scales. */
function storedIntegers(graph: Graph, b: TfliteGraphBuilder, n: Node, name: string, role: string): { t: TfliteTensor; data: ArrayLike<number>; scales: Float32Array } {
  const origin = b.constantOrigins.get(name);
  const where = `${graph.source}: node '${n.name}' (${n.op}): ${role} '${name}'`;
  if (!origin) return fail('MISSING_TENSOR', `${where} is not a tensor of the model (flexq computed it); an int8 model's ${role} must be stored in the file`);
  const t = b.tensor(origin.tensor);
  if (!t.quantization) return fail('UNSUPPORTED_ATTR', `${where} is ${tensorTypeName(t.type)} without quantization; expected quantized integers`);
  const stored = decodeConstant({ ...t, quantization: undefined }, b.model.buffers[t.buffer].data, b.source);
  const laidOut = origin.relayout(stored);
  const scales = Float32Array.from(t.quantization.scale);
  if (scales.length > 1) checkChannelAxis(where, t, origin.relayout);
  return { t, data: laidOut.data as ArrayLike<number>, scales };
}

/** Per-channel scales index axis 0 of the IR constant: the re-layout must carry quantized_dimension there. */
function checkChannelAxis(where: string, t: TfliteTensor, relayout: (c: { dtype: 'int32'; shape: readonly number[]; data: Int32Array }) => { shape: readonly number[]; data: unknown }): void {
  const axis = t.quantization!.quantizedDimension;
  const inner = t.shape.slice(axis + 1).reduce((p, d) => p * d, 1);
  const size = t.shape.reduce((p, d) => p * d, 1);
  const channelOf = Int32Array.from({ length: size }, (_, i) => Math.floor(i / inner) % t.shape[axis]);
  const moved = relayout({ dtype: 'int32', shape: t.shape, data: channelOf });
  const perChannel = (moved.data as Int32Array).length / moved.shape[0];
  const ok = moved.shape[0] === t.quantization!.scale.length && (moved.data as Int32Array).every((c, i) => c === Math.floor(i / perChannel));
  if (!ok) fail('UNSUPPORTED_ATTR', `${where} is quantized per channel along dimension ${axis} of ${JSON.stringify(t.shape)}; flexq needs the output-channel axis`);
}

function quantizedWeight(graph: Graph, b: TfliteGraphBuilder, n: Node, name: string): QuantizedWeight {
  const { t, data, scales } = storedIntegers(graph, b, n, name, 'weight');
  const where = `${graph.source}: node '${n.name}' (${n.op}): weight '${name}'`;
  if (t.type !== TensorType.INT8) fail('UNSUPPORTED_ATTR', `${where} is ${tensorTypeName(t.type)}; flexq imports INT8 weights`);
  const zeroPoints = t.quantization!.zeroPoint;
  if (scales.length > 1 && zeroPoints.some((z) => z !== 0)) fail('UNSUPPORTED_ATTR', `${where}: per-channel weights need zero point 0 (TFLite's int8 specification); found ${zeroPoints.find((z) => z !== 0)}`);
  const values = Int8Array.from(data);
  const lowest = values.reduce((m, v) => Math.min(m, v), -127);
  const shape = graph.values.get(name)!.shape as number[];
  if (scales.length === 1) return { shape, values, scale: scales[0], zeroPoint: zeroPoints[0] ?? 0, bits: 8, qmin: lowest, qmax: 127 };
  return { shape, values, scale: Math.max(...scales), channelScales: scales, zeroPoint: 0, bits: 8, qmin: lowest, qmax: 127 };
}

function quantizedBias(graph: Graph, b: TfliteGraphBuilder, n: Node, name: string, w: QuantizedWeight): QuantizedBias {
  const { t, data, scales } = storedIntegers(graph, b, n, name, 'bias');
  if (t.type !== TensorType.INT32)
    fail('UNSUPPORTED_ATTR', `${graph.source}: node '${n.name}' (${n.op}): bias '${name}' is ${tensorTypeName(t.type)}; flexq imports INT32 biases`);
  const values = Int32Array.from(data);
  if (scales.length === 1 && !w.channelScales) return { values, scale: scales[0] };
  // A per-tensor bias scale next to per-channel weights repeats for every channel.
  const channelScales = scales.length === 1 ? new Float32Array(values.length).fill(scales[0]) : scales;
  return { values, scale: Math.max(...channelScales), channelScales };
}
