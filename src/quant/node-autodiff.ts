// Forward and backward of the IR nodes reconstruction runs through, on a tensor backend: convolutions and matrix
// products on the backend, everything else element-wise (src/backend/typed-array-ops.ts). Fused activations
// (Conv/Gemm `activation` attribute) are applied and differentiated here, from the node's output.

import type { Activation, ConvParams, TensorBackend, UnitOp, UnitProgram, UnitQuantization, UnitQuantizer } from '../backend/backend.js';
import * as ew from '../backend/typed-array-ops.js';
import type { Graph, Node } from '../ir/graph.js';
import { normalizeAxis } from '../ir/shape.js';
import { intAttr, stringAttr } from '../ops/contract.js';
import { window2d } from '../ops/window.js';
import { nearestAttributes, nearestIndices } from '../ops/resize.js';
import { fail } from '../errors.js';
import type { FloatTensor } from '../tensor.js';

export interface NodeGradients {
  /** ∂L/∂input per dynamic input, where asked for. */
  readonly dxs: (FloatTensor | undefined)[];
  /** ∂L/∂weight for Conv/Gemm/MatMul, in the weight's own layout. */
  readonly dw?: Float32Array;
}

interface OpRule {
  forward(b: TensorBackend, graph: Graph, node: Node, xs: FloatTensor[], weight?: Float32Array): Promise<FloatTensor>;
  backward(b: TensorBackend, graph: Graph, node: Node, xs: FloatTensor[], y: FloatTensor, dy: FloatTensor, weight: Float32Array | undefined, need: boolean[]): Promise<NodeGradients>;
}

function convParams(node: Node): ConvParams {
  const w = window2d(node);
  return { strides: w.strides, pads: w.pads, dilations: w.dilations, group: intAttr(node, 'group', 1) };
}

function constant(graph: Graph, name: string | undefined): Float32Array | undefined {
  return name ? (graph.values.get(name)?.data as Float32Array | undefined) : undefined;
}

/** A fused activation applied in place, and its derivative taken from the activation's output. */
function activate(node: Node, y: FloatTensor): FloatTensor {
  const kind = stringAttr(node, 'activation', 'none');
  if (kind === 'relu') return ew.relu(y);
  if (kind === 'relu6') return ew.clip(y, 0, 6);
  return y;
}

function activationBackward(node: Node, y: FloatTensor, dy: FloatTensor): FloatTensor {
  const kind = stringAttr(node, 'activation', 'none');
  if (kind === 'relu') return ew.reluBackward(y, dy);
  if (kind === 'relu6') return ew.clipBackward(y, dy, 0, 6);
  return dy;
}

/** [K, N] ↔ [N, K]: the backend's matrix product wants the weight as [N, K]. */
function transpose(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

/** Whether a Gemm/MatMul weight is stored as the backend's [N, K] already (Gemm with transB), not as [K, N]. */
const storedTransposed = (node: Node): boolean => node.op === 'Gemm' && intAttr(node, 'transB', 0) === 1;

/** A Gemm/MatMul weight's shape as the backend's [N, K]. */
function matrixShape(graph: Graph, node: Node): number[] {
  const [rows, cols] = graph.values.get(node.inputs[1])!.shape as number[];
  return storedTransposed(node) ? [rows, cols] : [cols, rows];
}

/** A Gemm/MatMul weight as the backend's [N, K], and how to turn a gradient back into the graph's layout. */
function matrixWeight(graph: Graph, node: Node, weight: Float32Array | undefined): { w: FloatTensor; back: (dw: Float32Array) => Float32Array } {
  const value = graph.values.get(node.inputs[1])!;
  const data = weight ?? (value.data as Float32Array);
  const [rows, cols] = value.shape as number[];
  if (storedTransposed(node)) return { w: { shape: [rows, cols], data }, back: (dw) => dw };
  return { w: { shape: [cols, rows], data: transpose(data, rows, cols) }, back: (dw) => transpose(dw, cols, rows) };
}

const convWeight = (graph: Graph, node: Node, weight: Float32Array | undefined): FloatTensor => {
  const w = graph.values.get(node.inputs[1])!;
  return { shape: w.shape as number[], data: weight ?? (w.data as Float32Array) };
};

const conv: OpRule = {
  async forward(b, graph, node, [x], weight) {
    return activate(node, await b.conv2d(x, convWeight(graph, node, weight), constant(graph, node.inputs[2]), convParams(node)));
  },
  backward: async (b, graph, node, [x], y, dy, weight, need) => linearBackward(b, graph, node, x, activationBackward(node, y, dy), weight, need[0]),
};

const matrix: OpRule = {
  async forward(b, graph, node, [x], weight) {
    const { w } = matrixWeight(graph, node, weight);
    return activate(node, await b.gemm(x, w, node.op === 'Gemm' ? constant(graph, node.inputs[2]) : undefined));
  },
  backward: async (b, graph, node, [x], y, dy, weight, need) => linearBackward(b, graph, node, x, activationBackward(node, y, dy), weight, need[0]),
};

/** Backward of a Conv/Gemm/MatMul from ∂L/∂(its output before the fused activation). */
export async function linearBackward(b: TensorBackend, graph: Graph, node: Node, x: FloatTensor, dyPre: FloatTensor, weight: Float32Array | undefined, needInput: boolean): Promise<NodeGradients> {
  if (node.op === 'Conv') {
    const g = await b.conv2dBackward(x, convWeight(graph, node, weight), dyPre, convParams(node), needInput);
    return { dxs: [g.dx], dw: g.dw.data };
  }
  const { w, back } = matrixWeight(graph, node, weight);
  const g = await b.gemmBackward(x, w, dyPre, needInput);
  return { dxs: [g.dx], dw: back(g.dw.data) };
}

/**
 * A unit as a program a backend compiles whole (TensorBackend.unitStep), at batch size `batch`; undefined when a
 * node is not a Conv, Gemm, MatMul, Add or Relu. Weight k is the k-th Conv/Gemm/MatMul's, as the backend wants it.
 */
export function unitProgram(graph: Graph, nodes: readonly Node[], input: string, output: string, batch: number, quantizers: readonly UnitQuantizer[] = []): UnitProgram | undefined {
  const shapes: Record<string, number[]> = {};
  const shapeOf = (v: string) => (shapes[v] ??= [batch, ...(graph.values.get(v)!.shape.slice(1) as number[])]);
  shapeOf(input);
  const weights: number[][] = [];
  const ops: UnitOp[] = [];
  for (const node of nodes) {
    const [x] = node.inputs;
    const out = node.outputs[0];
    shapeOf(out);
    const activation = stringAttr(node, 'activation', 'none') as Activation;
    if (node.op === 'Conv') {
      ops.push({ kind: 'conv', input: x, output: out, weight: weights.length, bias: constant(graph, node.inputs[2]) !== undefined, params: convParams(node), activation });
      weights.push(graph.values.get(node.inputs[1])!.shape as number[]);
    } else if (node.op === 'Gemm' || node.op === 'MatMul') {
      ops.push({ kind: 'gemm', input: x, output: out, weight: weights.length, bias: node.op === 'Gemm' && constant(graph, node.inputs[2]) !== undefined, activation });
      weights.push(matrixShape(graph, node));
    } else if (node.op === 'Add' && node.inputs.length === 2 && node.inputs.every((v) => !graph.values.get(v)?.data)) ops.push({ kind: 'add', inputs: [node.inputs[0], node.inputs[1]], output: out });
    else if (node.op === 'Relu') ops.push({ kind: 'relu', input: x, output: out });
    else return undefined;
  }
  return { input, output, ops, shapes, weights, quantizers };
}

/** A unit's whole step through TensorBackend.unitStep: the loss, ∂L/∂weight per node in the graph's layout, ∂L/∂log step per quantizer, ∂L/∂input. */
export async function unitStep(
  b: TensorBackend,
  graph: Graph,
  program: UnitProgram,
  nodes: readonly Node[],
  x: FloatTensor,
  weights: ReadonlyMap<Node, Float32Array>,
  quantization: UnitQuantization,
  target: FloatTensor,
  positions: number,
  needInput: boolean,
): Promise<{ loss: number; weightGrads: Map<Node, Float32Array>; dLogSteps: readonly number[]; dx?: Float32Array }> {
  const linear = nodes.filter((n) => n.op === 'Conv' || n.op === 'Gemm' || n.op === 'MatMul');
  const operands = linear.map((n) => (n.op === 'Conv' ? { w: convWeight(graph, n, weights.get(n)), back: (dw: Float32Array) => dw } : matrixWeight(graph, n, weights.get(n))));
  const biases = linear.map((n) => (n.op === 'MatMul' ? undefined : constant(graph, n.inputs[2])));
  const r = await b.unitStep!(program, x, operands.map((o) => o.w.data), biases, quantization, target, positions, needInput);
  return { loss: r.loss, weightGrads: new Map(linear.map((n, k) => [n, operands[k].back(r.dws[k])])), dLogSteps: r.dLogSteps, dx: r.dx };
}

/** An op without weights whose backward needs only its inputs, output and ∂L/∂output. */
function elementwise(forward: (node: Node, xs: FloatTensor[], graph: Graph) => FloatTensor, backward: (node: Node, xs: FloatTensor[], y: FloatTensor, dy: FloatTensor) => FloatTensor[]): OpRule {
  return {
    forward: async (_b, graph, node, xs) => forward(node, xs, graph),
    backward: async (_b, _g, node, xs, y, dy, _w, need) => ({ dxs: backward(node, xs, y, dy).map((d, k) => (need[k] ? d : undefined)) }),
  };
}

/** Flatten and Reshape move no data: the output takes the graph's per-sample shape of the node's output. */
const reshaped = (node: Node, x: FloatTensor, graph: Graph): FloatTensor => ({ shape: [x.shape[0], ...(graph.values.get(node.outputs[0])!.shape.slice(1) as number[])], data: x.data });
const unshaped = (x: FloatTensor, dy: FloatTensor): FloatTensor => ({ shape: x.shape, data: dy.data });
/** A 4-D constant Pad's pads (BlazeFace's channel padding); other pads and modes are refused here. */
function constantPads(node: Node): readonly number[] {
  const pads = node.attrs.pads as readonly number[];
  if (stringAttr(node, 'mode', 'constant') !== 'constant' || pads.length !== 8 || pads[0] !== 0 || pads[4] !== 0)
    fail('UNSUPPORTED_ATTR', `node '${node.name}' (Pad): reconstruction pads 4-D tensors with a constant, not the batch axis; quantize this model with --method rtn`);
  return pads;
}
/**
 * A Resize's two axes as the float executor places them (linear in any of its coordinate modes; nearest with
 * onnxruntime's source indices, a weight of 0 on the upper neighbour); its output H×W are the graph's.
 */
function resizeAxes(graph: Graph, node: Node, xShape: readonly number[]): [ew.ResizeAxis, ew.ResizeAxis] {
  const mode = stringAttr(node, 'mode', 'nearest');
  const given = stringAttr(node, 'coordinateTransformationMode', 'half_pixel');
  const coordinates = (given === 'pytorch_half_pixel' ? 'half_pixel' : given) as ew.ResizeCoordinates;
  const linear = mode === 'linear' && ['half_pixel', 'align_corners', 'asymmetric'].includes(coordinates);
  const [, , h, w] = graph.values.get(node.outputs[0])!.shape;
  if ((!linear && mode !== 'nearest') || typeof h !== 'number' || typeof w !== 'number' || xShape.length !== 4)
    fail('UNSUPPORTED_ATTR', `node '${node.name}' (Resize): reconstruction resizes H and W of a 4-D tensor to a static size, linear or nearest; found mode '${mode}' with '${given}' coordinates; quantize this model with --method rtn`);
  if (linear) return [ew.resizeAxis(xShape[2], h, 'linear', coordinates), ew.resizeAxis(xShape[3], w, 'linear', coordinates)];
  const { coordinates: placed, nearest } = nearestAttributes(node);
  const axis = (indices: Int32Array): ew.ResizeAxis => ({ lower: indices, upper: indices, weight: new Float32Array(indices.length) });
  return [axis(nearestIndices(xShape[2], h, placed, nearest)), axis(nearestIndices(xShape[3], w, placed, nearest))];
}

/** A node's operands in input order: the dynamic ones as fed (`xs`), constants from the graph (a Mul by a constant scale). */
function operands(graph: Graph, node: Node, xs: readonly FloatTensor[]): FloatTensor[] {
  let k = 0;
  return node.inputs.map((v) => {
    const c = graph.values.get(v);
    return c?.data ? { shape: c.shape as number[], data: c.data as Float32Array } : xs[k++];
  });
}

/** The gradients of a node's operands in input order, kept for its dynamic inputs only (what backward returns). */
const dynamicOnly = (graph: Graph, node: Node, grads: readonly FloatTensor[]): FloatTensor[] => grads.filter((_, k) => !graph.values.get(node.inputs[k])?.data);

/** Mul of two operands with broadcasting, either possibly a constant. */
const mulRule: OpRule = {
  forward: async (_b, graph, node, xs) => ew.mul(...(operands(graph, node, xs) as [FloatTensor, FloatTensor])),
  backward: async (_b, graph, node, xs, _y, dy, _w, need) =>
    ({ dxs: dynamicOnly(graph, node, ew.mulBackward(...(operands(graph, node, xs) as [FloatTensor, FloatTensor]), dy)).map((d, k) => (need[k] ? d : undefined)) }),
};

/** Add with broadcasting, either operand possibly a constant (a per-channel shift). */
const addRule: OpRule = {
  forward: async (_b, graph, node, xs) => ew.add(...(operands(graph, node, xs) as [FloatTensor, FloatTensor])),
  backward: async (_b, graph, node, xs, _y, dy, _w, need) =>
    ({ dxs: dynamicOnly(graph, node, ew.addBackward(...(operands(graph, node, xs) as [FloatTensor, FloatTensor]), dy)).map((d, k) => (need[k] ? d : undefined)) }),
};

/** Concat of activations along the node's axis (batch-leading NCHW, as the graph's). */
const concatAxis = (node: Node, rank: number): number => normalizeAxis(intAttr(node, 'axis'), rank);
const concatRule: OpRule = {
  forward: async (_b, _g, node, xs) => ew.concat(xs, concatAxis(node, xs[0].shape.length)),
  backward: async (_b, _g, node, xs, _y, dy, _w, need) =>
    ({ dxs: ew.concatBackward(xs.map((x) => x.shape), dy, concatAxis(node, dy.shape.length)).map((d, k) => (need[k] ? d : undefined)) }),
};

/** Resize of H and W; its constant roi/scales/sizes inputs are the graph's. */
const resizeRule: OpRule = {
  forward: async (_b, graph, node, [x]) => ew.resize2d(x, ...resizeAxes(graph, node, x.shape)),
  backward: async (_b, graph, node, [x], _y, dy, _w, need) => ({ dxs: [need[0] ? ew.resize2dBackward(x.shape, dy, ...resizeAxes(graph, node, x.shape)) : undefined] }),
};

/** Clip's bounds (normalized attributes; absent = unbounded). */
const clipMin = (n: Node) => (n.attrs.min as number | undefined) ?? -Infinity;
const clipMax = (n: Node) => (n.attrs.max as number | undefined) ?? Infinity;

/** HardSigmoid's alpha and beta (ONNX defaults 0.2, 0.5). */
const hardSigmoidAttrs = (n: Node): [number, number] => [Number(n.attrs.alpha ?? 0.2), Number(n.attrs.beta ?? 0.5)];

const RULES: Record<string, OpRule> = {
  Conv: conv,
  Gemm: matrix,
  MatMul: matrix,
  Add: addRule,
  Concat: concatRule,
  Relu: elementwise((_n, [x]) => ew.relu(x), (_n, _xs, y, dy) => [ew.reluBackward(y, dy)]),
  Clip: elementwise((n, [x]) => ew.clip(x, clipMin(n), clipMax(n)), (n, _xs, y, dy) => [ew.clipBackward(y, dy, clipMin(n), clipMax(n))]),
  HardSwish: elementwise((_n, [x]) => ew.hardSwish(x), (_n, [x], _y, dy) => [ew.hardSwishBackward(x, dy)]),
  HardSigmoid: elementwise((n, [x]) => ew.hardSigmoid(x, ...hardSigmoidAttrs(n)), (n, [x], _y, dy) => [ew.hardSigmoidBackward(x, dy, ...hardSigmoidAttrs(n))]),
  GlobalAveragePool: elementwise((_n, [x]) => ew.globalAveragePool(x), (_n, [x], _y, dy) => [ew.globalAveragePoolBackward(x.shape, dy)]),
  AveragePool: elementwise((n, [x]) => ew.averagePool(x, window2d(n)), (n, [x], _y, dy) => [ew.averagePoolBackward(x, dy, window2d(n))]),
  MaxPool: elementwise((n, [x]) => ew.maxPool(x, window2d(n)).y, (n, [x], _y, dy) => [ew.maxPoolBackward(x.shape, ew.maxPool(x, window2d(n)).argmax, dy)]),
  Flatten: elementwise((n, [x], g) => reshaped(n, x, g), (_n, [x], _y, dy) => [unshaped(x, dy)]),
  Reshape: elementwise((n, [x], g) => reshaped(n, x, g), (_n, [x], _y, dy) => [unshaped(x, dy)]),
  Mul: mulRule,
  Sigmoid: elementwise((_n, [x]) => ew.sigmoid(x), (_n, _xs, y, dy) => [ew.sigmoidBackward(y, dy)]),
  Resize: resizeRule,
  Pad: elementwise((n, [x]) => ew.padConstant(x, constantPads(n), Number(n.attrs.value ?? 0)), (n, [x], _y, dy) => [ew.padConstantBackward(x.shape, dy, constantPads(n))]),
};

/** Whether reconstruction has forward and backward rules for `op`. */
export const isReconstructible = (op: string): boolean => Object.hasOwn(RULES, op);

/** Fails, listing every node of `nodes` reconstruction cannot run (called before any work is done). */
export function checkReconstructible(nodes: readonly Node[], source: string): void {
  const bad = nodes.filter((n) => !isReconstructible(n.op));
  if (bad.length === 0) return;
  fail(
    'UNSUPPORTED_OP',
    `${source}: reconstruction runs ${Object.keys(RULES).join(', ')}; ${bad.length} node(s) up to the last weighted layer are none of these: ` +
      `${bad.map((n) => `'${n.name}' (${n.op})`).join(', ')}; quantize this model with --method rtn`,
  );
}

export function forwardNode(b: TensorBackend, graph: Graph, node: Node, xs: FloatTensor[], weight?: Float32Array): Promise<FloatTensor> {
  return RULES[node.op].forward(b, graph, node, xs, weight);
}

export function backwardNode(b: TensorBackend, graph: Graph, node: Node, xs: FloatTensor[], y: FloatTensor, dy: FloatTensor, weight: Float32Array | undefined, need: boolean[]): Promise<NodeGradients> {
  return RULES[node.op].backward(b, graph, node, xs, y, dy, weight, need);
}
