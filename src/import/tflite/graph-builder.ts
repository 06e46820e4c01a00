// The state of one TFLite import: the IR nodes and constants of a subgraph made so far, and the helpers every op
// rule uses (value names, constants laid out for NCHW, fused activations, NHWC reshapes).
import { fail } from '../../errors.js';
import { toNumbers } from '../../ir/dtype.js';
import type { Attrs, Node, Value } from '../../ir/graph.js';
import { checkFinite } from '../../ir/limits.js';
import type { ConstTensor } from '../../ops/contract.js';
import {
  ActivationFunctionType,
  BuiltinOperator,
  builtinOperatorName,
  tensorTypeName,
  type BuiltinOptions,
  type TfliteModel,
  type TfliteOperator,
  type TfliteSubGraph,
  type TfliteTensor,
} from './reader.js';
import { NCHW_TO_NHWC, NHWC_TO_NCHW } from '../../ir/layout.js';
import { decodeConstant, nchwBroadcastConstant } from './constants.js';

/** One TFLite operator being converted: its position and code name it in error messages. */
export interface OpSite {
  readonly index: number;
  readonly op: TfliteOperator;
  readonly code: number;
  /** The custom_code of a CUSTOM operator, '' for a builtin. */
  readonly customCode: string;
}

export type OptionsOf<T extends BuiltinOptions['type']> = Extract<BuiltinOptions, { type: T }>;

/** Collects the IR nodes and constants of one subgraph while converting it operator by operator. */
export class TfliteGraphBuilder {
  readonly nodes: Node[] = [];
  readonly constants: Value[] = [];
  /** The IR value name of each TFLite tensor: its TFLite name, made unique. */
  readonly valueNames: readonly string[];
  private readonly usedNames = new Set<string>();
  /** The next suffix to try per base name, so many tensors of one name stay linear. */
  private readonly nextSuffix = new Map<string, number>();
  private readonly decoded = new Map<number, ConstTensor | undefined>();
  private readonly laidOut = new Map<string, string>();
  private readonly namedConstants = new Set<number>();
  /** Each IR constant made from a TFLite tensor: which tensor, and how it was re-laid (the int8 importer re-lays the integers alike). */
  readonly constantOrigins = new Map<string, { readonly tensor: number; readonly relayout: (c: ConstTensor) => ConstTensor }>();
  /** Rank-4 graph inputs already in NCHW order: read only by a TRANSPOSE to NHWC (the IR takes them as they are). */
  readonly nchwInputs: ReadonlySet<number>;

  constructor(readonly source: string, readonly model: TfliteModel, readonly subgraph: TfliteSubGraph) {
    this.nchwInputs = new Set(subgraph.inputs.filter((i) => isNchwInput(model, subgraph, i)));
    this.valueNames = subgraph.tensors.map((t, i) => this.freshName(t.name || `tensor_${i}`));
  }

  freshName(base: string): string {
    let name = base;
    let k = this.nextSuffix.get(base) ?? 1;
    while (this.usedNames.has(name)) name = `${base}_${k++}`;
    this.nextSuffix.set(base, k);
    this.usedNames.add(name);
    return name;
  }

  tensor(i: number): TfliteTensor {
    return this.subgraph.tensors[i];
  }

  rank(i: number): number {
    return this.tensor(i).shape.length;
  }

  where(site: OpSite): string {
    const name = site.customCode ? `CUSTOM '${site.customCode}'` : builtinOperatorName(site.code);
    return `${this.source}: operator ${site.index} (${name}) writing '${this.output(site)}'`;
  }

  /** Tensor index of input `k`; fails when the operator lacks it. */
  input(site: OpSite, k: number, role: string): number {
    const i = site.op.inputs[k];
    if (i === undefined || i < 0) fail('MODEL_INVALID', `${this.where(site)}: input ${k} (${role}) is missing; the file is malformed: re-export the model`);
    return i;
  }

  optionalInput(site: OpSite, k: number): number | undefined {
    const i = site.op.inputs[k];
    return i === undefined || i < 0 ? undefined : i;
  }

  /** Tensor index of the operator's (first) output; checkIndices made sure there is one. */
  outputIndex(site: OpSite): number {
    return site.op.outputs[0];
  }

  output(site: OpSite): string {
    return this.valueNames[this.outputIndex(site)];
  }

  options<T extends BuiltinOptions['type']>(site: OpSite, type: T): OptionsOf<T> | undefined {
    const o = site.op.options;
    return o.type === type ? (o as OptionsOf<T>) : undefined;
  }

  requiredOptions<T extends BuiltinOptions['type']>(site: OpSite, type: T): OptionsOf<T> {
    return this.options(site, type) ?? fail('MODEL_INVALID', `${this.where(site)}: it has no ${type}; the file is malformed: re-export the model`);
  }

  /** The real values of tensor i in TFLite layout (weights dequantized), or undefined for an activation. */
  constant(i: number): ConstTensor | undefined {
    if (!this.decoded.has(i)) {
      const t = this.tensor(i);
      const data = this.model.buffers[t.buffer].data;
      const value = data.length === 0 ? undefined : decodeConstant(t, data, this.source);
      if (value) checkFinite(this.valueNames[i], value.dtype, value.data, this.source);
      this.decoded.set(i, value);
    }
    return this.decoded.get(i);
  }

  /** Records that tensor `i` is a constant computed at import (a folded DEQUANTIZE). */
  foldConstant(i: number, value: ConstTensor): void {
    this.decoded.set(i, value);
  }

  requireConstant(site: OpSite, i: number, role: string): ConstTensor {
    return (
      this.constant(i) ??
      fail('UNSUPPORTED_ATTR', `${this.where(site)}: its ${role} '${this.valueNames[i]}' is computed at run time; flexq needs it as a constant tensor`)
    );
  }

  floatConstant(site: OpSite, i: number, role: string): ConstTensor {
    const c = this.requireConstant(site, i, role);
    if (c.dtype !== 'float32')
      fail(
        'UNSUPPORTED_ATTR',
        `${this.where(site)}: its ${role} '${this.valueNames[i]}' is ${tensorTypeName(this.tensor(i).type)} without quantization parameters; expected float32 (or int8 with a scale)`,
      );
    return c;
  }

  intValues(site: OpSite, i: number, role: string): number[] {
    const values = toNumbers(this.requireConstant(site, i, role).data);
    const bad = values.findIndex((v) => !Number.isSafeInteger(v));
    if (bad >= 0)
      fail('MODEL_INVALID', `${this.where(site)}: its ${role} '${this.valueNames[i]}' holds ${values[bad]} at index ${bad}; expected integers (INT32 or INT64): re-convert the model`);
    return values;
  }

  /** Name of the IR constant holding tensor i re-laid by `relayout`, made once per tensor and layout. */
  laidOutConstant(i: number, layout: string, relayout: (c: ConstTensor) => ConstTensor, value: ConstTensor): string {
    const key = `${i}/${layout}`;
    const known = this.laidOut.get(key);
    if (known !== undefined) return known;
    // The first layout of a tensor keeps its TFLite name; another layout of the same tensor gets a new one.
    const name = this.namedConstants.has(i) ? this.freshName(`${this.valueNames[i]}_${layout}`) : this.valueNames[i];
    this.namedConstants.add(i);
    this.addConstant(name, relayout(value));
    this.constantOrigins.set(name, { tensor: i, relayout });
    this.laidOut.set(key, name);
    return name;
  }

  /** Name of the IR constant holding tensor i in its TFLite layout (biases, FC weights, ranks other than 4). */
  plainConstant(i: number, value: ConstTensor): string {
    return this.laidOutConstant(i, 'as-is', (c) => c, value);
  }

  newConstant(base: string, value: ConstTensor): string {
    const name = this.freshName(base);
    this.addConstant(name, value);
    return name;
  }

  private addConstant(name: string, c: ConstTensor): void {
    this.constants.push({ name, dtype: c.dtype, shape: c.shape, data: c.data });
  }

  emit(op: string, inputs: readonly string[], output: string, attrs: Attrs = {}): string {
    this.nodes.push({ name: output, op, inputs, outputs: [output], attrs });
    return output;
  }

  /** Emits `op`, then its fused activation as a separate node (a later pass fuses it); `output` is the last value. */
  emitWithActivation(site: OpSite, op: string, inputs: readonly string[], attrs: Attrs, activation: number, output: string): void {
    if (activation === ActivationFunctionType.NONE) {
      this.emit(op, inputs, output, attrs);
      return;
    }
    const node = ACTIVATION_NODES.get(activation) ?? fail('UNSUPPORTED_ATTR', `${this.where(site)}: fused activation ${activation} is not supported; supported: NONE, RELU, RELU6, RELU_N1_TO_1`);
    const preActivation = this.emit(op, inputs, this.freshName(`${output}_preact`), attrs);
    this.emit(node.op, [preActivation], output, node.attrs);
  }

  /**
   * Tensor i as an input of an op whose other operands have rank `layoutRank`: rank-4 activations are
   * already NCHW; constants, and lower-rank activations that broadcast against rank 4, are re-laid to NCHW.
   */
  operand(i: number, layoutRank: number): string {
    const value = this.constant(i);
    if (value) return layoutRank === 4 ? this.laidOutConstant(i, 'nchw', nchwBroadcastConstant, value) : this.plainConstant(i, value);
    const shape = this.tensor(i).shape;
    if (layoutRank === 4 && shape.length < 4) {
      const nhwc = [...Array<number>(4 - shape.length).fill(1), ...shape];
      return this.reshape(this.valueNames[i], shape.length, nhwc, this.freshName(`${this.valueNames[i]}_nchw`));
    }
    return this.valueNames[i];
  }

  /** A value in TFLite's element order: rank-4 values are transposed back to NHWC. */
  private toNhwc(name: string, rank: number): string {
    return rank === 4 ? this.emit('Transpose', [name], this.freshName(`${name}_nhwc`), { perm: NCHW_TO_NHWC }) : name;
  }

  /** TFLite's reshape (row-major over NHWC) of an IR value of rank `rank` to `target`, written to `output`. */
  reshape(name: string, rank: number, target: readonly number[], output: string): string {
    const shape = this.newConstant(`${output}_shape`, { dtype: 'int64', shape: [target.length], data: BigInt64Array.from(target, BigInt) });
    const flat = this.toNhwc(name, rank);
    if (target.length !== 4) return this.emit('Reshape', [flat, shape], output);
    const nhwc = this.emit('Reshape', [flat, shape], this.freshName(`${output}_nhwc`));
    return this.emit('Transpose', [nhwc], output, { perm: NHWC_TO_NCHW });
  }
}

/** A rank-4 graph input whose every reader is TRANSPOSE with perm [0, 2, 3, 1] (NCHW → NHWC): it is NCHW already. */
function isNchwInput(model: TfliteModel, sg: TfliteSubGraph, input: number): boolean {
  if (sg.tensors[input].shape.length !== 4 || sg.outputs.includes(input)) return false;
  const readers = sg.operators.filter((op) => op.inputs.includes(input));
  return (
    readers.length > 0 &&
    readers.every((op) => {
      if (model.operatorCodes[op.opcodeIndex].builtinCode !== BuiltinOperator.TRANSPOSE || op.inputs[0] !== input) return false;
      const perm = model.buffers[sg.tensors[op.inputs[1]]?.buffer ?? 0]?.data;
      return perm !== undefined && perm.length === 16 && Array.from(new Int32Array(new Uint8Array(perm).buffer)).join() === NCHW_TO_NHWC.join();
    })
  );
}

// ---- Numeric helpers -------------------------------------------------------------------------------------

export interface ActivationNode {
  readonly op: string;
  readonly attrs: Attrs;
}

/** The IR node of each TFLite activation, fused (an option) or standalone (RELU, RELU6, RELU_N1_TO_1 ops). */
export const ACTIVATION_NODES: ReadonlyMap<number, ActivationNode> = new Map<number, ActivationNode>([
  [ActivationFunctionType.RELU, { op: 'Relu', attrs: {} }],
  [ActivationFunctionType.RELU6, { op: 'Clip', attrs: { min: 0, max: 6 } }],
  [ActivationFunctionType.RELU_N1_TO_1, { op: 'Clip', attrs: { min: -1, max: 1 } }],
]);

// ---- Operator converters ---------------------------------------------------------------------------------
