// The state of one export: the TFLite tensors and operators made so far, and the helpers every op rule uses
// (activation tensors made on first use, constants, parameters, RESHAPE and TRANSPOSE).

import { fail } from '../../errors.js';
import type { Graph, Node } from '../../ir/graph.js';
import type { ActivationQuant, QuantizedGraph } from '../../ir/quantized-graph.js';
import { BuiltinOperator, BuiltinOptionsType, FIELD, TensorType } from '../../tflite/schema.js';
import { littleEndian, tfliteShape } from './layout.js';
import type { OperatorSpec, OptionField, TensorSpec } from './model-spec.js';

export interface TfliteExportOptions {
  /** float: a float32 input quantized by QUANTIZE and float32 outputs from DEQUANTIZE; int8: the int8 tensors themselves. */
  readonly io: 'float' | 'int8';
  /**
   * constant (default): weights and biases in the model's buffers, what a deployment wants.
   * computed: each weight and bias passes through a RESHAPE, so it is no longer a constant tensor: delegates that
   * take only constant weights (XNNPACK) leave those layers to the interpreter's built-in kernels.
   */
  readonly weights?: 'constant' | 'computed';
  /**
   * constant (default): MEAN's axes in the model's buffers. computed: they pass through a RESHAPE, so a delegate that
   * takes MEAN only with constant axes (LiteRT.js's XNNPACK) leaves it to the interpreter's built-in kernel.
   */
  readonly meanAxes?: 'constant' | 'computed';
  /** Activations (by IR value name) to expose as extra model outputs after the graph outputs, for per-layer comparison. */
  readonly extraOutputs?: readonly string[];
}

const INT8_RANGE = { qmin: -128, qmax: 127 };

/** Builds the tensors and operators of one model while the op rules (op-rules.ts) lower the IR node by node. */
export class TfliteLowering {
  readonly tensors: TensorSpec[] = [];
  readonly operators: OperatorSpec[] = [];
  private readonly index = new Map<string, number>();
  private readonly names = new Set<string>();

  constructor(readonly q: QuantizedGraph, readonly options: TfliteExportOptions) {}

  get graph(): Graph {
    return this.q.graph;
  }

  where(node: Node): string {
    return `${this.graph.source}: node '${node.name}' (${node.op})`;
  }

  unsupported(node: Node, what: string): never {
    return fail('UNSUPPORTED_ATTR', `${this.where(node)}: ${what}`);
  }

  private freshName(base: string): string {
    let name = base;
    for (let k = 1; this.names.has(name); k++) name = `${base}_${k}`;
    this.names.add(name);
    return name;
  }

  addTensor(t: TensorSpec): number {
    this.tensors.push({ ...t, name: this.freshName(t.name) });
    return this.tensors.length - 1;
  }

  addOperator(o: OperatorSpec): void {
    this.operators.push(o);
  }

  /** The IR shape of a value with the batch dimension set to 1; every other dim must be static. */
  irShape(name: string, node?: Node): number[] {
    const shape = this.graph.values.get(name)!.shape;
    const dims = shape.map((d, i) => (i === 0 ? 1 : d));
    if (!dims.every((d): d is number => typeof d === 'number'))
      return fail('UNSUPPORTED_ATTR', `${node ? this.where(node) : this.graph.source}: value '${name}' has shape [${shape.join(',')}]; TFLite export needs static dims after the batch`);
    return dims;
  }

  /** The activation grid of a value, checked to be an int8 grid TFLite's kernels clamp to. */
  grid(name: string, node: Node): ActivationQuant {
    const g = this.q.activations.get(name);
    if (!g) return this.unsupported(node, `value '${name}' has no activation grid (a constant input, or float activations); TFLite export needs every activation quantized: quantize with --abits 8`);
    if (g.bits !== 8 || g.qmin !== INT8_RANGE.qmin || g.qmax !== INT8_RANGE.qmax)
      return this.unsupported(node, `activation '${name}' is quantized to ${g.bits} bits [${g.qmin}, ${g.qmax}]; TFLite's int8 kernels clamp to [-128, 127]: re-quantize with --abits 8`);
    return g;
  }

  /** The tensor of an IR activation (NHWC when rank 4), made on first use. */
  activation(name: string, node: Node): number {
    const known = this.index.get(name);
    if (known !== undefined) return known;
    const g = this.grid(name, node);
    const i = this.addTensor({ name, shape: tfliteShape(this.irShape(name, node)), type: TensorType.INT8, quantization: { scale: g.scale, zeroPoint: g.zeroPoint } });
    this.index.set(name, i);
    return i;
  }

  /** A new int8 activation tensor on a grid (for TRANSPOSE / RESHAPE / PAD intermediates). */
  intermediate(name: string, shape: readonly number[], g: ActivationQuant): number {
    return this.addTensor({ name, shape, type: TensorType.INT8, quantization: { scale: g.scale, zeroPoint: g.zeroPoint } });
  }

  /** An int32 constant (shapes, axes, paddings). */
  int32Constant(name: string, shape: readonly number[], values: readonly number[]): number {
    return this.addTensor({ name, shape, type: TensorType.INT32, data: littleEndian(Int32Array.from(values)) });
  }

  /**
   * A weight or bias tensor. With weights 'computed' the constant goes through a RESHAPE to its own shape,
   * and the layer reads the RESHAPE's output.
   */
  parameter(t: TensorSpec): number {
    return this.options.weights === 'computed' ? this.computedConstant(t) : this.addTensor(t);
  }

  /** MEAN's int32 axes: a constant, or with meanAxes 'computed' a RESHAPE of one. */
  meanAxes(name: string, axes: readonly number[]): number {
    const t: TensorSpec = { name, shape: [axes.length], type: TensorType.INT32, data: littleEndian(Int32Array.from(axes)) };
    return this.options.meanAxes === 'computed' ? this.computedConstant(t) : this.addTensor(t);
  }

  /** A constant stored under NAME/stored and read through a RESHAPE to its own shape: no longer a constant tensor. */
  private computedConstant(t: TensorSpec): number {
    const stored = this.addTensor({ ...t, name: `${t.name}/stored` });
    const computed = this.addTensor({ ...t, data: undefined });
    this.reshape(stored, computed, t.shape);
    return computed;
  }

  reshape(from: number, to: number, shape: readonly number[]): void {
    const target = this.int32Constant(`${this.tensors[to].name}/shape`, [shape.length], shape);
    this.addOperator({
      code: BuiltinOperator.RESHAPE,
      version: 1,
      inputs: [from, target],
      outputs: [to],
      options: { type: BuiltinOptionsType.ReshapeOptions, fields: [{ id: FIELD.ReshapeOptions.new_shape, kind: 'int32-vector', value: shape }] },
    });
  }

  transpose(from: number, to: number, perm: readonly number[]): void {
    const p = this.int32Constant(`${this.tensors[to].name}/perm`, [perm.length], perm);
    this.addOperator({ code: BuiltinOperator.TRANSPOSE, version: 2, inputs: [from, p], outputs: [to], options: { type: BuiltinOptionsType.TransposeOptions, fields: [] } });
  }
}

/** A fused_activation_function field from the IR's activation attribute (none | relu | relu6). */
export const fusedActivationField = (id: number, activation: unknown): OptionField => ({ id, kind: 'int8', value: FUSED_ACTIVATION[String(activation ?? 'none')] });

export const FUSED_ACTIVATION: Readonly<Record<string, number>> = { none: 0, relu: 1, relu6: 3 };

