// QuantizedGraph → the C calls of the generated model, one step per node (Prepare for the C kernels): every multiplier,
// shift, table and weight layout the kernels need is computed here, from the same QuantizedGraph and with the same
// requantization functions as flexq's integer runtime in the mode of the library's rounding (cRequantMode: 'double',
// TFLite-Micro's default, is tflite-double; 'single', its TFLITE_SINGLE_ROUNDING build, is tflite-single; 'xnnpack',
// XNNPACK's fp32 requantization as LiteRT runs it by default, is tflite-xnnpack), so the C computes what the runtime
// does: no libm; float32 arithmetic only in the xnnpack rounding's requantization, double only in its softmax.
// Layout is the runtime's: NCHW, one sample. Reshape-like ops are aliases of their input (no step, no copy).

import { fail } from '../../src/errors.js';
import type { KernelSet, Rounding as CRounding } from '../../src/target.js';
import type { Graph } from '../../src/ir/graph.js';
import { normalizeAxis, sizeOf } from '../../src/ir/shape.js';
import { intAttr } from '../../src/ops/contract.js';
import { window2d, type Window2d } from '../../src/ops/window.js';
import { type ActivationQuant, type QuantizedGraph } from '../../src/ir/quantized-graph.js';
import { createIntegerRuntime, nodeContext } from '../../runtime/executor.js';
import { graphInputRule, type QuantizeRule } from '../../runtime/quantize-input.js';
import { broadcastStrides, fourAxes, MORE_RULES } from './lower-ops.js';
import {
  arrayBytes, biasValues, cFloat, channelRequant, fusedActivation, outputOf, perChannel, requantInit, symmetricWeight, windowInit,
  type CArray, type CRequantMode, type CStep, type NodeInfo, type Rule,
} from './c-step.js';
import { tfliteAddConstants, xnnpackAddConstants, type AddOperand } from '../../runtime/kernels/add.js';
import { fullyConnectedLayerRequantizers, fusedActivationRange, layerRequantizers, unitMajorWeights } from '../../runtime/kernels/gemm.js';
import { tfliteMeanMultiplier, xnnpackMeanConstants } from '../../runtime/kernels/global-average-pool.js';
import { KERNELS, type KernelContext } from '../../runtime/kernels/registry.js';
import { prepareFixedPointSoftmax } from '../../runtime/kernels/softmax.js';
import {
  multiplyByQuantizedMultiplierDouble,
  multiplyByQuantizedMultiplierSingle,
  prepareRequantizer,
  tfliteDoubleFromMultiplier,
  tfliteSingleFromMultiplier,
  type OutputRange,
} from '../../runtime/requant/index.js';

// Which kernel files the model calls: TFLite-Micro-style reference loops, or the DSP-extension ones where they apply.
export { KERNEL_SETS, type KernelSet } from '../../src/target.js';

/** The requantization roundings kernels/flexq_requant.h implements (FLEXQ_SINGLE_ROUNDING and FLEXQ_FP32_REQUANT pick one). */
export { ROUNDINGS as C_ROUNDINGS, type Rounding as CRounding } from '../../src/target.js';
export const DEFAULT_C_ROUNDING: CRounding = 'double';

export {
  biasValues, fusedActivation, outputOf, requantInit, symmetricWeight, windowInit,
  type CArray, type CallPointers, type CRequantMode, type CStep, type NodeInfo, type Rule,
} from './c-step.js';

/** The integer runtime's mode that computes what the C of a rounding computes. */
export const cRequantMode = (rounding: CRounding): CRequantMode => ({ double: 'tflite-double', single: 'tflite-single', xnnpack: 'tflite-xnnpack' } as const)[rounding];

/** The runtime's mode of the default rounding. */
export const C_REQUANT_MODE = cRequantMode(DEFAULT_C_ROUNDING);

/** A mode's MultiplyByQuantizedMultiplier, and its requantizer from a real multiplier. */
const FIXED_POINT = {
  'tflite-double': { multiply: multiplyByQuantizedMultiplierDouble, fromMultiplier: tfliteDoubleFromMultiplier },
  'tflite-single': { multiply: multiplyByQuantizedMultiplierSingle, fromMultiplier: tfliteSingleFromMultiplier },
} as const;

export interface LoweredModel {
  readonly graph: Graph;
  readonly rounding: CRounding;
  readonly steps: readonly CStep[];
  /** Nodes whose DSP GEMM weights an optimized build keeps int8 to fit its flash budget. */
  readonly int8WeightLayers: readonly string[];
  /** Values that are another value's bytes under a new shape: name → the value they alias. */
  readonly aliases: ReadonlyMap<string, string>;
  readonly input: LoweredTensor;
  /** The runtime's QUANTIZE of the graph input in the rounding's mode, which the C's quantize_input is written from. */
  readonly inputRule: QuantizeRule;
  /** The graph's outputs in order: the caller's output buffer holds them back to back. */
  readonly outputs: readonly LoweredTensor[];
}

export interface LoweredTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly quant: ActivationQuant;
}

const ALIAS_OPS = new Set(['Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Identity']);
/** The ops whose optimized GEMM may hold int8 weights (the flash budget's candidates; depthwise convs stay int16). */
const WEIGHTED_OPS = new Set(['Conv', 'Gemm', 'MatMul']);
const LOOKUP_OPS = new Set(['Relu', 'Clip', 'Sigmoid', 'HardSigmoid', 'HardSwish']);
/** The ops the C target runs (a kernel or an alias of its input); the target's deployability check reads it. */
export const isCOp = (op: string): boolean => ruleOf(op) !== undefined || ALIAS_OPS.has(op);

export interface LowerOptions {
  /**
   * Optimized builds: the most bytes of constants (weights, biases, tables) flash may hold. Where the int16 weights of
   * the DSP kernels would need more, the layers whose int16 packing costs the most over int8 keep their GEMM weights
   * int8 (SXTB16 at run time), largest saving first, until the constants fit or no layer is left.
   */
  readonly constantBudget?: number;
}

/** Lowers a quantized graph for the C target; errors name the node and what to do. */
export function lowerForC(q: QuantizedGraph, kernels: KernelSet, rounding: CRounding = DEFAULT_C_ROUNDING, o: LowerOptions = {}): LoweredModel {
  const { graph } = q;
  const mode = cRequantMode(rounding);
  // The runtime's prepare validates grids, weights, biases and attributes with its own messages: the C is the same model.
  createIntegerRuntime(q, mode);
  const shape = (name: string): readonly number[] => graph.values.get(name)!.shape.slice(1) as number[];
  const grid = (name: string): ActivationQuant => q.activations.get(name)!;
  const aliases = new Map<string, string>();
  const infos: NodeInfo[] = [];
  graph.nodes.forEach((node, i) => {
    const where = `${graph.source}: node '${node.name}' (${node.op})`;
    const output = node.outputs.find((o) => o !== '')!;
    if (ALIAS_OPS.has(node.op)) {
      aliases.set(output, aliases.get(node.inputs[0]) ?? node.inputs[0]);
      return;
    }
    if (!ruleOf(node.op)) fail('UNSUPPORTED_OP', `${where}: the C target has no kernel for ${node.op}; supported: ${[...Object.keys(RULES), ...Object.keys(MORE_RULES), ...ALIAS_OPS].join(', ')}`);
    infos.push({ q, node, where, id: `n${i}`, kernels, mode, shape, grid });
  });
  const steps = infos.map((n) => ruleOf(n.node.op)!(n));
  const int8WeightLayers = o.constantBudget === undefined || kernels !== 'optimized' ? [] : fitConstants(infos, steps, o.constantBudget);
  const tensor = (name: string): LoweredTensor => ({ name, shape: shape(name), quant: grid(name) });
  const input = tensor(graph.inputs[0]);
  return { graph, rounding, steps, int8WeightLayers, aliases, input, inputRule: graphInputRule(mode, input.quant), outputs: graph.outputs.map(tensor) };
}

/**
 * Lowers optimized steps again with int8 GEMM weights until the constants fit `budget` bytes: the largest saving
 * (int16 − int8 packing) first, so the fewest layers pay SXTB16 at run time. Returns their names.
 */
function fitConstants(infos: readonly NodeInfo[], steps: CStep[], budget: number): string[] {
  let over = arrayBytes(steps.flatMap((s) => s.arrays)) - budget;
  if (over <= 0) return [];
  const candidates = infos
    .flatMap((n, k) => (WEIGHTED_OPS.has(n.node.op) ? [{ k, int8: ruleOf(n.node.op)!({ ...n, int8Weights: true }) }] : []))
    .map((c) => ({ ...c, saving: arrayBytes(steps[c.k].arrays) - arrayBytes(c.int8.arrays) }))
    .filter((c) => c.saving > 0)
    .sort((a, b) => b.saving - a.saving);
  const moved: string[] = [];
  for (const c of candidates) {
    if (over <= 0) break;
    steps[c.k] = c.int8;
    over -= c.saving;
    moved.push(infos[c.k].node.name);
  }
  return moved;
}

/** The rule of an op: this file's, or lower-ops.ts's. */
const ruleOf = (op: string): Rule | undefined => (Object.hasOwn(RULES, op) ? RULES[op] : Object.hasOwn(MORE_RULES, op) ? MORE_RULES[op] : undefined);

const RULES: Record<string, Rule> = {
  Conv: lowerConv,
  Gemm: lowerFullyConnected,
  MatMul: lowerFullyConnected,
  Add: lowerAdd,
  MaxPool: (n) => lowerPool(n, 'flexq_max_pool_s8', 'max_pool.c'),
  AveragePool: (n) => lowerPool(n, 'flexq_average_pool_s8', 'average_pool.c'),
  GlobalAveragePool: lowerGlobalAveragePool,
  Softmax: lowerSoftmax,
  ...Object.fromEntries([...LOOKUP_OPS].map((op) => [op, lowerLookup])),
};

function lowerConv(n: NodeInfo): CStep {
  const { node, id } = n;
  const [x, out] = [node.inputs[0], outputOf(node)];
  const [inShape, outShape] = [n.shape(x), n.shape(out)];
  const w = symmetricWeight(n, 1);
  const window = window2d(node);
  const groups = intAttr(node, 'group', 1);
  const y = n.grid(out);
  const [channels, outChannels] = [inShape[0], outShape[0]];
  const r = channelRequant(id, perChannel(layerRequantizers(w, outChannels, (weightScale) => prepareRequantizer(n.mode, {
    inputScale: n.grid(x).scale, weightScale, outputScale: y.scale, ...fusedActivationRange(fusedActivation(node), y),
  })), outChannels));
  const [kh, kw] = window.kernel;
  const depth = (channels / groups) * kh * kw;
  const bias = biasValues(n, 2, outChannels);
  const isConvDsp = n.kernels === 'optimized' && groups === 1;
  const isDepthwiseDsp = n.kernels === 'optimized' && groups === channels && groups > 1 && window.dilations[1] === 1;
  const windowText = windowInit(window, inShape, outShape);
  if (isConvDsp || isDepthwiseDsp) {
    const zeroPoint = n.grid(x).zeroPoint;
    const taps = convDspTaps(w.values, outChannels, channels, kh, kw);
    const int8Weights = isConvDsp && n.int8Weights === true;
    const weights: CArray = isConvDsp
      ? { name: `${id}_weights`, type: 'int32_t', values: gemmDspWords(taps.values, outChannels, taps.depth, int8Weights) }
      : { name: `${id}_weights`, type: 'int16_t', values: padRowsToEven(w.values, outChannels * kh, kw) };
    const folded: CArray = { name: `${id}_bias`, type: 'int32_t', values: foldInputZeroPoint(bias, w.values, outChannels, depth, zeroPoint) };
    const init = `{${windowText}, ${zeroPoint}, (const int8_t *)(const void *)${weights.name}, ${folded.name}, ${r.init}, ${int8Weights ? 1 : 0}}`;
    const [kernel, sources, scratchBytes] = isConvDsp
      ? ['flexq_conv_s8_dsp', ['conv_dsp.c', 'gemm_dsp.c'], gemmDspScratchBytes(taps.depth)]
      : ['flexq_depthwise_conv_s8_dsp', ['depthwise_conv_dsp.c'], depthwiseScratchBytes(window, outShape)];
    const inPlace = isConvDsp ? isPointwiseInPlace(window, inShape, outShape) : outChannels === channels && sizeOf(outShape) <= sizeOf(inShape);
    return {
      node, params: { type: 'flexq_conv_dsp_params', init }, arrays: [weights, folded, ...r.arrays], inputs: [x], output: out,
      outputBytes: sizeOf(outShape), scratchBytes, inPlaceInputs: inPlace ? [0] : [], sources, convDsp: isConvDsp ? init : undefined,
      call: (p) => `${kernel}(${p.params}, ${p.inputs[0]}, ${p.output}, (int16_t *)(void *)${p.scratch});`,
    };
  }
  const weights: CArray = { name: `${id}_weights`, type: 'int8_t', values: w.values };
  const biasArray: CArray = { name: `${id}_bias`, type: 'int32_t', values: bias };
  const init = `{${windowText}, ${groups}, ${-n.grid(x).zeroPoint}, ${weights.name}, ${biasArray.name}, ${r.init}}`;
  return {
    node, params: { type: 'flexq_conv_params', init }, arrays: [weights, biasArray, ...r.arrays], inputs: [x], output: out,
    outputBytes: sizeOf(outShape), scratchBytes: 0, sources: ['conv.c'],
    call: (p) => `flexq_conv_s8(${p.params}, ${p.inputs[0]}, ${p.output});`,
  };
}

/**
 * conv_dsp.c gathers every channel of output pixels p, p+1 before writing them: with a 1×1 window, stride 1, no padding
 * and no more output than input channels, output [m][p] only covers input bytes of pixels already gathered.
 */
function isPointwiseInPlace(w: Window2d, inShape: readonly number[], outShape: readonly number[]): boolean {
  const unit = (v: readonly number[]): boolean => v.every((d) => d === 1);
  return unit(w.kernel) && unit(w.strides) && w.pads.every((p) => p === 0) && outShape[0] <= inShape[0] && outShape[1] === inShape[1] && outShape[2] === inShape[2];
}

/**
 * bias[m] + Σ_k (x_k − z)·w[m][k] = (bias[m] − z·Σ_k w[m][k]) + Σ_k x_k·w[m][k]: the optimized kernels multiply raw
 * inputs and start from this bias (int32 wrap-around, as the kernels' sums).
 */
export function foldInputZeroPoint(bias: Int32Array, weights: Int8Array, rows: number, depth: number, zeroPoint: number): Int32Array {
  const out = new Int32Array(rows);
  for (let m = 0; m < rows; m++) {
    let sum = 0;
    for (let k = 0; k < depth; k++) sum += weights[m * depth + k];
    out[m] = (bias[m] - Math.imul(zeroPoint, sum)) | 0;
  }
  return out;
}

const round8 = (k: number): number => Math.ceil(k / 8) * 8;

/**
 * Rows [rows][depth] → the packing of kernels/gemm_dsp.h, sign-extended to int16 offline: rows in pairs, each pair as,
 * per group of four taps, row m's four then row m+1's (a last odd row alone), zero tail to round8(depth): the order in
 * which the GEMM's loop loads them, two words per row and group, each word a pair of taps for SMLAD.
 */
export function packForGemmDsp(values: Int8Array, rows: number, depth: number): Int16Array {
  const depth8 = round8(depth);
  const out = new Int16Array(rows * depth8);
  let at = 0;
  for (let r = 0; r < rows; r += 2) {
    const pair = r + 1 < rows ? [r, r + 1] : [r];
    for (let k = 0; k < depth8; k += 4) for (const row of pair) for (let j = k; j < k + 4; j++) out[at++] = j < depth ? values[row * depth + j] : 0;
  }
  return out;
}

/** int16 values (an even count) → the int32 words that hold them on a little-endian core: int32 arrays are 4-byte aligned, as LDRD needs. */
function littleEndianWords(values: Int16Array): Int32Array {
  return Int32Array.from({ length: values.length / 2 }, (_, i) => (values[2 * i] & 0xffff) | (values[2 * i + 1] << 16));
}

/**
 * packForGemmDsp's taps as the int32 words of kernels/gemm_dsp.h: two int16 taps a word, or with int8 weights one group
 * of four taps (k, k+1, k+2, k+3) a word, its bytes in the order (k, k+2, k+1, k+3) that SXTB16 unpacks into pairs.
 */
export function gemmDspWords(values: Int8Array, rows: number, depth: number, int8Weights: boolean): Int32Array {
  const taps = packForGemmDsp(values, rows, depth);
  if (!int8Weights) return littleEndianWords(taps);
  const byte = (i: number): number => taps[i] & 0xff;
  return Int32Array.from({ length: taps.length / 4 }, (_, g) => byte(4 * g) | (byte(4 * g + 2) << 8) | (byte(4 * g + 1) << 16) | (byte(4 * g + 3) << 24));
}

/** The scratch of kernels/conv_dsp.c and fully_connected_dsp.c: the GEMM's two interleaved int16 rows. */
const gemmDspScratchBytes = (depth: number): number => 2 * round8(depth) * 2;

/**
 * A one-group conv's weights [M][C][kh][kw] in the tap order that kernels/conv_dsp.c gathers a window in, so that each
 * group of four taps the GEMM reads is copied straight into the interleaved rows: [M][kh][kw][C] when C is a multiple
 * of 4 or the window 1×1 (a group: one window position × four channels, from four channel planes); otherwise
 * [M][C][kh][round4(kw)] (a group: four taps of one window row; the taps past kw weigh 0). `depth`: taps per output channel.
 */
export function convDspTaps(values: Int8Array, outChannels: number, channels: number, kh: number, kw: number): { values: Int8Array; depth: number } {
  const positions = kh * kw;
  if (channels % 4 === 0 || positions === 1) {
    const out = new Int8Array(values.length);
    for (let m = 0; m < outChannels; m++)
      for (let c = 0; c < channels; c++)
        for (let k = 0; k < positions; k++) out[(m * positions + k) * channels + c] = values[(m * channels + c) * positions + k];
    return { values: out, depth: channels * positions };
  }
  const rowTaps = Math.ceil(kw / 4) * 4;
  const out = new Int8Array(outChannels * channels * kh * rowTaps);
  for (let row = 0; row < outChannels * channels * kh; row++) out.set(values.subarray(row * kw, (row + 1) * kw), row * rowTaps);
  return { values: out, depth: channels * kh * rowTaps };
}

/** Rows of `width` values → int16 rows of round2(width) with a zero tail (the depthwise kernel's weight pairs). */
function padRowsToEven(values: Int8Array, rows: number, width: number): Int16Array {
  const even = width + (width % 2);
  const out = new Int16Array(rows * even);
  for (let r = 0; r < rows; r++) for (let k = 0; k < width; k++) out[r * even + k] = values[r * width + k];
  return out;
}

/** kernels/depthwise_conv_dsp.c's scratch: the bordered int16 plane (padded_extent there) to 4 bytes, then one int32 per output. */
function depthwiseScratchBytes(w: Window2d, outShape: readonly number[]): number {
  const [, outH, outW] = outShape;
  const kw2 = w.kernel[1] + (w.kernel[1] % 2);
  const height = (outH - 1) * w.strides[0] + (w.kernel[0] - 1) * w.dilations[0] + 1;
  const width = (outW - 1) * w.strides[1] + kw2;
  return Math.ceil((height * width) / 2) * 4 + 4 * outH * outW;
}

/** Gemm (weights [units][depth] after transB) and MatMul by a constant [depth][units], as the runtime's gemm.ts reads them. */
function lowerFullyConnected(n: NodeInfo): CStep {
  const { node, id } = n;
  const [x, out] = [node.inputs[0], outputOf(node)];
  const w = symmetricWeight(n, 1);
  const { units, depth, values: rowMajor } = unitMajorWeights(node, w);
  const rows = sizeOf(n.shape(x)) / depth;
  if (rows !== 1) fail('UNSUPPORTED_ATTR', `${n.where}: input '${x}' holds ${rows} rows of ${depth}; the C fully-connected kernel takes one row per sample: flatten the input first`);
  const y = n.grid(out);
  const range = fusedActivationRange(node.op === 'Gemm' ? fusedActivation(node) : 'none', y);
  const r = channelRequant(id, perChannel(fullyConnectedLayerRequantizers(n.mode, w, units, { inputScale: n.grid(x).scale, outputScale: y.scale, ...range }), units));
  if (n.kernels === 'optimized') {
    const int8Weights = n.int8Weights === true;
    const weights: CArray = { name: `${id}_weights`, type: 'int32_t', values: gemmDspWords(rowMajor, units, depth, int8Weights) };
    const folded: CArray = { name: `${id}_bias`, type: 'int32_t', values: foldInputZeroPoint(biasValues(n, 2, units), rowMajor, units, depth, n.grid(x).zeroPoint) };
    return {
      node, params: { type: 'flexq_fully_connected_dsp_params', init: `{${depth}, ${units}, (const int8_t *)(const void *)${weights.name}, ${folded.name}, ${r.init}, ${int8Weights ? 1 : 0}}` },
      arrays: [weights, folded, ...r.arrays], inputs: [x], output: out, outputBytes: units, scratchBytes: gemmDspScratchBytes(depth),
      sources: ['fully_connected_dsp.c', 'gemm_dsp.c'],
      call: (p) => `flexq_fully_connected_s8_dsp(${p.params}, ${p.inputs[0]}, ${p.output}, (int16_t *)(void *)${p.scratch});`,
    };
  }
  const weights: CArray = { name: `${id}_weights`, type: 'int8_t', values: rowMajor };
  const bias: CArray = { name: `${id}_bias`, type: 'int32_t', values: biasValues(n, 2, units) };
  const init = `{${depth}, ${units}, ${-n.grid(x).zeroPoint}, ${weights.name}, ${bias.name}, ${r.init}}`;
  return {
    node, params: { type: 'flexq_fully_connected_params', init }, arrays: [weights, bias, ...r.arrays], inputs: [x], output: out,
    outputBytes: units, scratchBytes: 0, sources: ['fully_connected.c'],
    call: (p) => `flexq_fully_connected_s8(${p.params}, ${p.inputs[0]}, ${p.output});`,
  };
}

/** TFLite's int8 ADD, with the constants the runtime's ADD prepares in the mode. */
function lowerAdd(n: NodeInfo): CStep {
  const { node } = n;
  const [a, b, out] = [node.inputs[0], node.inputs[1], outputOf(node)];
  // The runtime's view of the operands: a quantized constant operand (an Add's shift) has its grid and broadcast shape there.
  const ctx = nodeContext(n.q, n.mode, node);
  const size = sizeOf(n.shape(out));
  const gy = n.grid(out);
  const range: OutputRange = { zeroPoint: gy.zeroPoint, min: gy.qmin, max: gy.qmax };
  const [shapeA, shapeB] = [ctx.inputShape(0), ctx.inputShape(1)];
  const broadcastOrConstant = sizeOf(shapeA) !== size || sizeOf(shapeB) !== size || ctx.isConstant(0) || ctx.isConstant(1);
  if (n.mode === 'tflite-xnnpack') {
    if (broadcastOrConstant)
      fail('UNSUPPORTED_ATTR', `${n.where}: the C add with XNNPACK's arithmetic takes two activations of the output's shape, found a broadcast or constant operand: compile with --rounding single or double`);
    return xnnpackAddTables(n, size, range);
  }
  const c = tfliteAddConstants(n.mode, ctx.inputGrid(0), ctx.inputGrid(1), gy);
  const { multiply, fromMultiplier } = FIXED_POINT[n.mode];
  const requant = requantInit(fromMultiplier(c.outputMultiplier, range).constants);
  // a' = MBQM((a − z_a)·2^left_shift, q_a, e_a) for every int8 a: the runtime's own function, tabulated.
  const table = (o: AddOperand, name: string): CArray => ({
    name, type: 'int32_t',
    values: Int32Array.from({ length: 256 }, (_, i) => multiply((i - 128 - o.zeroPoint) * 2 ** c.leftShift, o.multiplier, o.shift)),
  });
  if (broadcastOrConstant) {
    // Broadcasting (a per-channel [C,1,1] operand, a per-plane one): both kernel sets walk the output with the operands' strides.
    const [ta, tb] = [table(c.a, `${n.id}_a_table`), table(c.b, `${n.id}_b_table`)];
    const shape = n.shape(out);
    const broadcast = `{{${fourAxes(n, shape, 'the output').join(', ')}}, {${broadcastStrides(n, shapeA, shape).join(', ')}}, {${broadcastStrides(n, shapeB, shape).join(', ')}}}`;
    // A constant operand is a const array in flash; the activations come from the arena.
    const constants: CArray[] = [0, 1].filter((i) => ctx.isConstant(i)).map((i) => ({ name: `${n.id}_operand${i}`, type: 'int8_t', values: n.q.weights.get(node.inputs[i])!.values }));
    const activations = [0, 1].filter((i) => !ctx.isConstant(i));
    return {
      node, params: { type: 'flexq_add_broadcast_params', init: `{${broadcast}, ${ta.name}, ${tb.name}, ${requant}}` },
      arrays: [ta, tb, ...constants], inputs: activations.map((i) => node.inputs[i]), output: out, outputBytes: size, scratchBytes: 0,
      // An operand of the output's size is read at each index just before the output is written there.
      inPlaceInputs: activations.flatMap((i, k) => (sizeOf(i === 0 ? shapeA : shapeB) === size ? [k] : [])), sources: ['add_broadcast.c'],
      call: (p) => {
        const operand = (i: number) => (ctx.isConstant(i) ? `${n.id}_operand${i}` : p.inputs[activations.indexOf(i)]);
        return `flexq_add_s8_broadcast(${p.params}, ${operand(0)}, ${operand(1)}, ${p.output});`;
      },
    };
  }
  if (n.kernels === 'optimized') {
    const [ta, tb] = [table(c.a, `${n.id}_a_table`), table(c.b, `${n.id}_b_table`)];
    return {
      node, params: { type: 'flexq_add_table_params', init: `{${size}, ${ta.name}, ${tb.name}, ${requant}}` },
      arrays: [ta, tb], inputs: [a, b], output: out, outputBytes: size, scratchBytes: 0, inPlaceInputs: [0, 1], sources: ['add_table.c'],
      addTable: { tables: [ta, tb], requant },
      call: (p) => `flexq_add_s8_table(${p.params}, ${p.inputs[0]}, ${p.inputs[1]}, ${p.output});`,
    };
  }
  const operand = (o: AddOperand): string => `${-o.zeroPoint}, ${o.multiplier}, ${o.shift}`;
  return {
    node, params: { type: 'flexq_add_params', init: `{${size}, ${c.leftShift}, ${operand(c.a)}, ${operand(c.b)}, ${requant}}` },
    arrays: [], inputs: [a, b], output: out, outputBytes: size, scratchBytes: 0, inPlaceInputs: [0, 1], sources: ['add.c'],
    call: (p) => `flexq_add_s8(${p.params}, ${p.inputs[0]}, ${p.inputs[1]}, ${p.output});`,
  };
}

/**
 * XNNPACK's qs8 add (the runtime's xnnpackAddConstants) through add_table.c in both kernel sets:
 *   y = clamp(((bias + a·ma + b·mb) >> shift) + zy),  bias = 2^(shift−1) − ma·za − mb·zb
 *     = clamp(floor((ta[a] + tb[b] + 2^(shift−1)) / 2^shift) + zy),  ta[a] = (a − za)·ma, tb[b] = (b − zb)·mb
 * and the single-rounding multiply by q = 2^30 with t = 31 − s = shift + 30 is exactly that floor. |ta + tb| < 2^30.
 */
function xnnpackAddTables(n: NodeInfo, size: number, range: OutputRange): CStep {
  const { node } = n;
  const [a, b, out] = [node.inputs[0], node.inputs[1], outputOf(node)];
  const c = xnnpackAddConstants(n.grid(a), n.grid(b), n.grid(out));
  if (c.shift < 1 || c.shift > 32)
    fail('UNSUPPORTED_ATTR', `${n.where}: input/output scale ratios ${n.grid(a).scale / n.grid(out).scale}, ${n.grid(b).scale / n.grid(out).scale} give XNNPACK's add a shift of ${c.shift}; the C add takes 1..32 (ratios between 2^-12 and 2^19): re-quantize the model`);
  const table = (zeroPoint: number, multiplier: number, name: string): CArray => ({
    name, type: 'int32_t', values: Int32Array.from({ length: 256 }, (_, i) => (i - 128 - zeroPoint) * multiplier),
  });
  const [ta, tb] = [table(n.grid(a).zeroPoint, c.aMultiplier, `${n.id}_a_table`), table(n.grid(b).zeroPoint, c.bMultiplier, `${n.id}_b_table`)];
  const requant = requantInit({ kind: 'fixed-point', multiplier: 2 ** 30, shift: 1 - c.shift, ...range });
  return {
    node, params: { type: 'flexq_add_table_params', init: `{${size}, ${ta.name}, ${tb.name}, ${requant}}` },
    arrays: [ta, tb], inputs: [a, b], output: out, outputBytes: size, scratchBytes: 0, inPlaceInputs: [0, 1], sources: ['add_table.c'],
    addTable: { tables: [ta, tb], requant },
    call: (p) => `flexq_add_s8_table(${p.params}, ${p.inputs[0]}, ${p.inputs[1]}, ${p.output});`,
  };
}

function lowerPool(n: NodeInfo, kernel: string, source: string): CStep {
  const { node } = n;
  const [x, out] = [node.inputs[0], outputOf(node)];
  const [inShape, outShape] = [n.shape(x), n.shape(out)];
  const w = window2d(node);
  const includePad = intAttr(node, 'countIncludePad', 0);
  const init = `{${windowInit(w, inShape, outShape)}, ${w.pads[2]}, ${w.pads[3]}, ${includePad}, ${n.grid(x).zeroPoint}}`;
  return {
    node, params: { type: 'flexq_pool_params', init }, arrays: [], inputs: [x], output: out,
    outputBytes: sizeOf(outShape), scratchBytes: 0, sources: [source],
    call: (p) => `${kernel}(${p.params}, ${p.inputs[0]}, ${p.output});`,
  };
}

/** The mean's multiplier as the runtime prepares it in the mode (tflite-xnnpack: its float32 scale and bias). */
function lowerGlobalAveragePool(n: NodeInfo): CStep {
  const { node } = n;
  const [x, out] = [node.inputs[0], outputOf(node)];
  const [channels, ...spatial] = n.shape(x);
  const planeSize = sizeOf(spatial);
  const [gx, gy] = [n.grid(x), n.grid(out)];
  if (n.mode === 'tflite-xnnpack') {
    const { scale, bias } = xnnpackMeanConstants(gx, gy, planeSize);
    return {
      node, params: { type: 'flexq_mean_fp32_params', init: `{${channels}, ${planeSize}, ${cFloat(scale)}, ${cFloat(bias)}, ${gy.qmin}, ${gy.qmax}}` },
      arrays: [], inputs: [x], output: out, outputBytes: channels, scratchBytes: 0, sources: ['mean_fp32.c'],
      call: (p) => `flexq_mean_s8_fp32(${p.params}, ${p.inputs[0]}, ${p.output});`,
    };
  }
  const requant = FIXED_POINT[n.mode].fromMultiplier(tfliteMeanMultiplier(gx, gy, planeSize), { zeroPoint: gy.zeroPoint, min: gy.qmin, max: gy.qmax }).constants;
  return {
    node, params: { type: 'flexq_global_average_pool_params', init: `{${channels}, ${planeSize}, ${gx.zeroPoint}, ${requantInit(requant)}}` },
    arrays: [], inputs: [x], output: out, outputBytes: channels, scratchBytes: 0, sources: ['global_average_pool.c'],
    call: (p) => `flexq_global_average_pool_s8(${p.params}, ${p.inputs[0]}, ${p.output});`,
  };
}

/**
 * TFLite-Micro's integer softmax (either rounding build), with the constants the runtime's softmax prepares; in the
 * xnnpack rounding the runtime's tflite-xnnpack softmax in double (softmax_float.c), on the grids as they are.
 */
function lowerSoftmax(n: NodeInfo): CStep {
  const { node } = n;
  const [x, out] = [node.inputs[0], outputOf(node)];
  const shape = n.shape(x);
  const axis = normalizeAxis(intAttr(node, 'axis', -1), shape.length + 1);
  const layout = `${sizeOf(shape.slice(0, axis - 1))}, ${shape[axis - 1]}, ${sizeOf(shape.slice(axis))}`;
  const step = { node, arrays: [], inputs: [x], output: out, outputBytes: sizeOf(shape), scratchBytes: 0 };
  if (n.mode === 'tflite-xnnpack') {
    const [gx, gy] = [n.grid(x), n.grid(out)];
    const init = `{${layout}, ${cFloat(gx.scale)}, ${gx.zeroPoint}, ${cFloat(gy.scale)}, ${gy.zeroPoint}, ${gy.qmin}, ${gy.qmax}}`;
    return {
      ...step, params: { type: 'flexq_softmax_float_params', init }, sources: ['softmax_float.c'],
      call: (p) => `flexq_softmax_s8_float(${p.params}, ${p.inputs[0]}, ${p.output});`,
    };
  }
  const p = prepareFixedPointSoftmax(n.grid(x), n.grid(out), (what) => fail('UNSUPPORTED_ATTR', `${n.where}: ${what}`));
  const init = `{${layout}, ${p.inputMultiplier}, ${p.inputLeftShift}, ${p.diffMin}, ${p.outputBits}, ${p.zeroPoint}, ${p.qmin}, ${p.qmax}}`;
  return {
    ...step, params: { type: 'flexq_softmax_params', init }, sources: ['softmax.c'],
    call: (p) => `flexq_softmax_s8(${p.params}, ${p.inputs[0]}, ${p.output});`,
  };
}

/** The 256-entry table of an element-wise activation, taken from the integer runtime's own kernel run on every int8. */
function lowerLookup(n: NodeInfo): CStep {
  const { node, id } = n;
  const [x, out] = [node.inputs[0], outputOf(node)];
  const table = runtimeTable(n);
  const size = sizeOf(n.shape(out));
  return {
    node, arrays: [{ name: `${id}_table`, type: 'int8_t', values: table }], inputs: [x], output: out,
    outputBytes: size, scratchBytes: 0, inPlaceInputs: [0], sources: ['lookup.c'],
    call: (p) => `flexq_lookup_s8(${id}_table, ${size}, ${p.inputs[0]}, ${p.output});`,
  };
}

function runtimeTable(n: NodeInfo): Int8Array {
  const { node, where } = n;
  const [x, out] = [node.inputs[0], outputOf(node)];
  const ctx: KernelContext = {
    mode: n.mode,
    node,
    where,
    inputShape: () => [256],
    isConstant: () => false,
    outputShape: [256],
    inputGrid: () => n.grid(x),
    outputGrid: n.grid(out),
    weight: () => fail('UNSUPPORTED_ATTR', `${where}: an element-wise op has no weight`),
    bias: () => undefined,
    unsupported: (what) => fail('UNSUPPORTED_ATTR', `${where}: ${what}`),
  };
  const kernel = KERNELS.get(node.op)!(ctx);
  const table = new Int8Array(256);
  kernel([Int8Array.from({ length: 256 }, (_, i) => i - 128)], 1, table);
  return table;
}
