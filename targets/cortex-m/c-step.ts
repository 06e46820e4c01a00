// What a lowering rule takes and gives (a node's facts, the C step with its arrays and call), and the helpers every
// rule file shares: lower.ts and lower-ops.ts both build on it, so neither imports the other's rules.

import { fail } from '../../src/errors.js';
import type { KernelSet } from '../../src/target.js';
import type { Node } from '../../src/ir/graph.js';
import type { Window2d } from '../../src/ops/window.js';
import type { ActivationQuant, QuantizedGraph, QuantizedWeight } from '../../src/ir/quantized-graph.js';
import type { FusedActivation } from '../../runtime/kernels/gemm.js';
import type { RequantConstants, Requantizer } from '../../runtime/requant/index.js';

/** The integer runtime's modes the C kernels can compute (one per rounding build). */
export type CRequantMode = 'tflite-double' | 'tflite-single' | 'tflite-xnnpack';

export interface CArray {
  readonly name: string;
  readonly type: 'int8_t' | 'int16_t' | 'int32_t' | 'float';
  readonly values: ArrayLike<number>;
}

/** C expressions of the pointers a step's call takes. */
export interface CallPointers {
  readonly params: string;
  readonly inputs: readonly string[];
  readonly output: string;
  readonly scratch: string;
}

export interface CStep {
  readonly node: Node;
  /** The params struct type and its initializer (field values in declaration order), when the kernel takes one. */
  readonly params?: { readonly type: string; readonly init: string };
  readonly arrays: readonly CArray[];
  /** Activation inputs, in the order the call reads them. */
  readonly inputs: readonly string[];
  readonly output: string;
  readonly outputBytes: number;
  readonly scratchBytes: number;
  /** Inputs whose bytes the output may take when no later step reads them (the kernel reads each element first). */
  readonly inPlaceInputs?: readonly number[];
  /** The kernel sources (under kernels/) this step links. */
  readonly sources: readonly string[];
  /** A one-group DSP conv: its flexq_conv_dsp_params initializer, for fuse-residual.ts. */
  readonly convDsp?: string;
  /** A table Add: its operand tables (inputs order) and requantization initializer, for fuse-residual.ts. */
  readonly addTable?: { readonly tables: readonly [CArray, CArray]; readonly requant: string };
  call(p: CallPointers): string;
}

const ELEMENT_BYTES: Readonly<Record<CArray['type'], number>> = { int8_t: 1, int16_t: 2, int32_t: 4, float: 4 };

/** Bytes of const arrays in flash. */
export const arrayBytes = (arrays: readonly CArray[]): number => arrays.reduce((sum, a) => sum + a.values.length * ELEMENT_BYTES[a.type], 0);

/** What every lowering rule reads about its node. */
export interface NodeInfo {
  readonly q: QuantizedGraph;
  readonly node: Node;
  readonly where: string;
  readonly id: string;
  readonly kernels: KernelSet;
  /** Optimized one-group convs and fully-connected layers: keep the GEMM's weights int8 (SXTB16 at run time), not int16. */
  readonly int8Weights?: boolean;
  readonly mode: CRequantMode;
  shape(name: string): readonly number[];
  grid(name: string): ActivationQuant;
}

export type Rule = (n: NodeInfo) => CStep;

export const outputOf = (node: Node): string => node.outputs.find((o) => o !== '')!;

/** A float32 value as a C float literal that reads back to exactly that value (9 significant digits round-trip). */
export function cFloat(v: number): string {
  return `${Math.fround(v).toPrecision(9)}f`;
}

/** C initializer of a flexq_requant. */
export function requantInit(c: RequantConstants): string {
  if (c.kind !== 'fixed-point') throw new Error(`the C target needs fixed-point requantization, got ${c.kind}`);
  return `{${c.multiplier}, ${c.shift}, ${c.zeroPoint}, ${c.min}, ${c.max}}`;
}

/** One requantizer per output channel: a per-tensor layer's one, repeated. */
export function perChannel(r: Requantizer | Requantizer[], channels: number): RequantConstants[] {
  return Array.isArray(r) ? r.map((c) => c.constants) : new Array<RequantConstants>(channels).fill(r.constants);
}

/**
 * The per-output-channel arrays of a flexq_channel_requant and its initializer: multiplier[M] and shift[M], or the
 * fp32 build's scale[M] (the runtime's tflite-xnnpack constants).
 */
export function channelRequant(id: string, perChannel: readonly RequantConstants[]): { arrays: CArray[]; init: string } {
  const [head] = perChannel;
  if (head.kind === 'fp32') {
    const scale: CArray = { name: `${id}_scale`, type: 'float', values: perChannel.map((c) => (c.kind === 'fp32' ? c.scale : NaN)) };
    return { arrays: [scale], init: `{${scale.name}, ${head.zeroPoint}, ${head.min}, ${head.max}}` };
  }
  const fixed = perChannel.map((c) => {
    if (c.kind !== 'fixed-point') throw new Error(`the C target needs fixed-point requantization, got ${c.kind}`);
    return c;
  });
  const [first] = fixed;
  const multiplier: CArray = { name: `${id}_multiplier`, type: 'int32_t', values: fixed.map((c) => c.multiplier) };
  const shift: CArray = { name: `${id}_shift`, type: 'int32_t', values: fixed.map((c) => c.shift) };
  return { arrays: [multiplier, shift], init: `{${multiplier.name}, ${shift.name}, ${first.zeroPoint}, ${first.min}, ${first.max}}` };
}

export function windowInit(w: Window2d, input: readonly number[], output: readonly number[]): string {
  return `{${[...input, ...output, ...w.kernel, ...w.strides, ...w.dilations, w.pads[0], w.pads[1]].join(', ')}}`;
}

export function symmetricWeight(n: NodeInfo, i: number): QuantizedWeight {
  const w = n.q.weights.get(n.node.inputs[i])!;
  if (w.zeroPoint !== 0)
    fail('UNSUPPORTED_ATTR', `${n.where}: weight '${n.node.inputs[i]}' has zero point ${w.zeroPoint}; the C kernels take symmetric weights (zero point 0, TFLite's int8 rule): re-quantize with symmetric weights`);
  return w;
}

export function biasValues(n: NodeInfo, i: number, units: number): Int32Array {
  const name = n.node.inputs[i];
  return (name ? n.q.biases.get(name)?.values : undefined) ?? new Int32Array(units);
}

export function fusedActivation(node: Node): FusedActivation {
  return (node.attrs.activation ?? 'none') as FusedActivation;
}
