// flexq's integer runtime: executes a QuantizedGraph on int8 tensors with one target's arithmetic (a RequantMode).
// createIntegerRuntime prepares once: it checks that every node has a kernel, every activation its grid and every
// weighted layer its integers, and lets each kernel precompute what its loops need. run() then executes blind.

import { fail, FlexqError } from '../src/errors.js';
import type { Graph, Node, Value } from '../src/ir/graph.js';
import { formatShape, sizeOf } from '../src/ir/shape.js';
import type { ActivationQuant, QuantizedBias, QuantizedGraph, QuantizedWeight } from '../src/ir/quantized-graph.js';
import { KERNELS, type Kernel, type KernelContext } from './kernels/registry.js';
import { quantizeGraphInput } from './quantize-input.js';
import { REQUANT_MODES, type RequantMode } from './requant/index.js';

/** An integer tensor and the grid its integers live on: real = scale · (q − zeroPoint). */
export interface IntTensor {
  readonly shape: readonly number[];
  readonly data: Int8Array;
  readonly quant: ActivationQuant;
}

export interface IntegerRuntime {
  readonly mode: RequantMode;
  /** Quantizes a float NCHW batch with the graph input's grid, with the mode's rounding. */
  quantizeInput(data: Float32Array): Int8Array;
  /** Runs one batch [N, ...] of int8 input; returns graph outputs or the named values (any node output). */
  run(input: { shape: readonly number[]; data: Int8Array }, outputs?: readonly string[]): Map<string, IntTensor>;
}

/** One prepared node: its kernel, which values it reads and writes, and which it reads for the last time. */
interface Step {
  readonly kernel: Kernel;
  readonly inputs: readonly string[];
  readonly output: string;
  readonly outputSize: number;
  readonly release: readonly string[];
  /** The integers of its quantized constant operands, by name. */
  readonly constants: ReadonlyMap<string, Int8Array>;
}

const NO_DATA = new Int8Array(0);

export function createIntegerRuntime(q: QuantizedGraph, mode: RequantMode): IntegerRuntime {
  const { graph } = q;
  if (!REQUANT_MODES.includes(mode)) fail('BAD_ARGUMENT', `unknown requantization mode '${String(mode)}'; expected one of ${REQUANT_MODES.join(', ')}`);
  if (q.activations.size === 0)
    fail('UNSUPPORTED_ATTR', `${graph.source}: the activations are float (quantized with --abits 32); the integer runtime needs quantized activations`);
  if (graph.inputs.length !== 1) fail('UNSUPPORTED_ATTR', `${graph.source}: the integer runtime runs graphs with one input; this one has ${graph.inputs.length}`);
  const input = graph.inputs[0];
  const shapes = new SampleShapes(graph);
  const inputGrid = gridOf(q, input, `${graph.source}: graph input '${input}'`);
  const steps = prepareSteps(q, mode, shapes);
  const quantOf = (name: string): ActivationQuant => (name === input ? inputGrid : q.activations.get(name)!);

  return {
    mode,
    quantizeInput: (data) => quantizeGraphInput(mode, inputGrid, data),
    run(x, outputs = graph.outputs) {
      const batch = checkedBatch(graph, input, shapes.of(input), x);
      for (const name of outputs) {
        if (name !== input && !steps.some((s) => s.output === name))
          fail('MISSING_TENSOR', `${graph.source}: no activation named '${name}' (the integer runtime returns node outputs and the graph input)`);
      }
      const wanted = new Set(outputs);
      const env = new Map<string, Int8Array>([[input, x.data]]);
      for (const step of steps) {
        const output = new Int8Array(batch * step.outputSize);
        step.kernel(step.inputs.map((name) => env.get(name) ?? step.constants.get(name) ?? NO_DATA), batch, output);
        env.set(step.output, output);
        for (const name of step.release) if (!wanted.has(name)) env.delete(name);
      }
      return new Map(outputs.map((name) => [name, { shape: [batch, ...shapes.of(name)], data: env.get(name)!, quant: quantOf(name) }]));
    },
  };
}

/** real = scale · (q − zeroPoint), as float32 (what DequantizeLinear computes). */
export function dequantize(t: IntTensor): Float32Array {
  const { scale, zeroPoint } = t.quant;
  const out = new Float32Array(t.data.length);
  for (let i = 0; i < out.length; i++) out[i] = scale * (t.data[i] - zeroPoint);
  return out;
}

/** Per-sample shapes: every activation is [batch, ...static dims], the batch being the graph input's first dim. */
class SampleShapes {
  private readonly batchDim: Value['shape'][number];

  constructor(private readonly graph: Graph) {
    this.batchDim = graph.values.get(graph.inputs[0])!.shape[0];
  }

  /** The per-sample dims of an activation, or an error naming it. */
  of(name: string): readonly number[] {
    const shape = this.graph.values.get(name)!.shape;
    const sample = shape.slice(1);
    if (shape.length === 0 || shape[0] !== this.batchDim || !sample.every((d): d is number => typeof d === 'number'))
      fail('UNSUPPORTED_ATTR', `${this.graph.source}: activation '${name}' has shape ${formatShape(shape)}; the integer runtime needs [${String(this.batchDim)}, static dims...]`);
    return sample;
  }
}

/** Input k of `node` when it is a constant with integers of its own (an Add's shift, src/quant/constant-operands.ts), not a layer's weight. */
function constantOperand(q: QuantizedGraph, node: Node, k: number): QuantizedWeight | undefined {
  return node.op === 'Add' ? q.weights.get(node.inputs[k]) : undefined;
}

function gridOf(q: QuantizedGraph, name: string, what: string): ActivationQuant {
  const grid = q.activations.get(name);
  if (!grid) return fail('MISSING_TENSOR', `${what} has no activation grid in the quantized graph; re-quantize the model`);
  if (grid.bits > 8) return fail('UNSUPPORTED_ATTR', `${what} is quantized to ${grid.bits} bits; the integer runtime stores activations as int8`);
  return grid;
}

function prepareSteps(q: QuantizedGraph, mode: RequantMode, shapes: SampleShapes): Step[] {
  const { graph } = q;
  const lastUse = new Map<string, number>();
  graph.nodes.forEach((node, i) => node.inputs.forEach((name) => lastUse.set(name, i)));
  return graph.nodes.map((node, i) => {
    const where = `${graph.source}: node '${node.name}' (${node.op})`;
    const factory = KERNELS.get(node.op);
    if (!factory) fail('UNSUPPORTED_OP', `${where} has no integer kernel; supported: ${[...KERNELS.keys()].join(', ')}`);
    const outputs = node.outputs.filter((o) => o !== '');
    if (outputs.length !== 1) fail('UNSUPPORTED_ATTR', `${where}: ${outputs.length} outputs; the integer runtime runs single-output nodes`);
    const ctx = kernelContext(q, mode, node, where, shapes);
    const kernel = withContext(where, () => factory(ctx));
    const activations = node.inputs.filter((name) => name !== '' && q.activations.has(name));
    return {
      kernel,
      inputs: node.inputs,
      output: outputs[0],
      outputSize: sizeOf(ctx.outputShape),
      release: activations.filter((name) => lastUse.get(name) === i && !graph.outputs.includes(name)),
      constants: new Map(node.inputs.flatMap((name, k) => { const c = constantOperand(q, node, k); return c ? [[name, c.values] as const] : []; })),
    };
  });
}

/** The context a kernel of `node` is prepared with, as the runtime builds it (for targets that run some nodes themselves). */
export function nodeContext(q: QuantizedGraph, mode: RequantMode, node: Node): KernelContext {
  return kernelContext(q, mode, node, `${q.graph.source}: node '${node.name}' (${node.op})`, new SampleShapes(q.graph));
}

/** Errors that requantizer preparation throws (plain Errors naming a scale) get the node's name in front. */
function withContext<T>(where: string, prepare: () => T): T {
  try {
    return prepare();
  } catch (e) {
    if (e instanceof FlexqError || !(e instanceof Error)) throw e;
    return fail('UNSUPPORTED_ATTR', `${where}: ${e.message}`);
  }
}

function kernelContext(q: QuantizedGraph, mode: RequantMode, node: Node, where: string, shapes: SampleShapes): KernelContext {
  const inputName = (i: number): string => {
    const name = node.inputs[i];
    if (!name) return fail('UNSUPPORTED_ATTR', `${where}: input ${i} is missing`);
    return name;
  };
  const unsupported = (what: string): never => fail('UNSUPPORTED_ATTR', `${where}: ${what}`);
  const output = node.outputs.find((o) => o !== '')!;
  const isConstantOperand = (i: number): boolean => constantOperand(q, node, i) !== undefined;
  return {
    mode,
    node,
    where,
    inputShape(i) {
      const name = inputName(i);
      if (!isConstantOperand(i)) return shapes.of(name);
      // numpy broadcasting aligns the constant's dims to the right of the batched output's; the batch axis must be 1.
      const shape = q.graph.values.get(name)!.shape as number[];
      const rank = shapes.of(output).length + 1;
      const aligned = [...new Array<number>(Math.max(rank - shape.length, 0)).fill(1), ...shape];
      if (aligned.length !== rank || aligned[0] !== 1) return unsupported(`constant '${name}' of shape ${formatShape(shape)} does not broadcast per sample onto the output's ${rank} dims`);
      return aligned.slice(1);
    },
    isConstant: isConstantOperand,
    outputShape: shapes.of(output),
    inputGrid(i) {
      const name = inputName(i);
      const constant = q.weights.get(name);
      if (constant && isConstantOperand(i)) return constant;
      if (q.graph.values.get(name)?.data)
        return unsupported(`input '${name}' is a constant; the integer runtime quantizes the weights and biases of Conv, Gemm and MatMul and the constant operand of Add (a .fq from an older flexq: re-quantize it), so fold this constant into one of those or make it an activation`);
      return gridOf(q, name, `${where}: input '${name}'`);
    },
    outputGrid: gridOf(q, output, `${where}: output '${output}'`),
    weight(i): QuantizedWeight {
      const name = inputName(i);
      const w = q.weights.get(name);
      if (!w) return fail('MISSING_TENSOR', `${where}: weight '${name}' has no integers in the quantized graph; it must be a quantized constant`);
      if (w.bits > 8) return unsupported(`weight '${name}' has ${w.bits} bits; the integer runtime stores weights as int8`);
      return w;
    },
    bias(i): QuantizedBias | undefined {
      const name = node.inputs[i];
      if (!name) return undefined;
      const b = q.biases.get(name);
      if (!b) return fail('MISSING_TENSOR', `${where}: bias '${name}' has no int32 values in the quantized graph; re-quantize the model`);
      return b;
    },
    unsupported,
  };
}

function checkedBatch(graph: Graph, input: string, sample: readonly number[], x: { shape: readonly number[]; data: Int8Array }): number {
  const ok = x.shape.length === sample.length + 1 && sample.every((d, i) => d === x.shape[i + 1]) && Number.isInteger(x.shape[0]) && x.shape[0] >= 1;
  if (!ok) fail('DATA_SHAPE', `${graph.source}: input '${input}' expects shape [N,${sample.join(',')}], got ${formatShape(x.shape)}`);
  if (x.data.length !== sizeOf(x.shape)) fail('DATA_SHAPE', `${graph.source}: input '${input}': ${x.data.length} values for shape ${formatShape(x.shape)}`);
  return x.shape[0];
}
