// Tiny single-purpose ONNX models built in code for onnxruntime: the operands that change every iteration
// (activations, weights, gradients) are graph inputs; only fixed helper tensors (shapes, axes) are initializers.
import { encodeModel, intAttributes, ONNX_TYPE, rawTensor, stringAttribute, valueInfo, type GraphProto } from '../onnx-writer.js';

/** An ONNX node attribute: ints for lists, int for a number, a string (an NCHWc conv's fused activation). */
export type OnnxAttr = number | readonly number[] | string;

export interface OnnxNodeSpec {
  readonly op: string;
  /** The operator domain when not ONNX's own (NCHWC_DOMAIN). */
  readonly domain?: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attrs?: Readonly<Record<string, OnnxAttr>>;
}

/** onnxruntime's CPU-only NCHWc operators (ReorderInput, Conv, ReorderOutput), opset 1. */
export const NCHWC_DOMAIN = 'com.microsoft.nchwc';

export interface OnnxGraphSpec {
  /** Float graph inputs with fixed shapes. */
  readonly inputs: ReadonlyArray<{ readonly name: string; readonly shape: readonly number[] }>;
  readonly outputs: readonly string[];
  readonly nodes: readonly OnnxNodeSpec[];
  /** int64 constants (Reshape shapes, ReduceSum axes, Slice bounds). */
  readonly int64Constants?: Readonly<Record<string, readonly number[]>>;
  /** float scalars (Clip bounds, loss scales). */
  readonly floatConstants?: Readonly<Record<string, number>>;
}

/** ONNX TensorProto data types (a Cast's `to`). */
export const FLOAT = ONNX_TYPE.float32;
const OPSET = 17;

const attributes = (attrs: Readonly<Record<string, OnnxAttr>>) =>
  Object.entries(attrs).map(([name, v]) => (typeof v === 'string' ? stringAttribute(name, v) : intAttributes({ [name]: v })[0]));

/** Encodes the spec as an opset-17 ONNX model (opset 1 of any other domain its nodes use). */
export function encodeOnnxGraph(spec: OnnxGraphSpec): Uint8Array {
  const initializer = [
    ...Object.entries(spec.int64Constants ?? {}).map(([name, values]) => rawTensor(name, 'int64', [values.length], BigInt64Array.from(values, (v) => BigInt(v)))),
    ...Object.entries(spec.floatConstants ?? {}).map(([name, value]) => rawTensor(name, 'float32', [], Float32Array.of(value))),
  ];
  const graph: GraphProto = {
    name: 'flexq_backend_op',
    input: spec.inputs.map((i) => valueInfo(i.name, FLOAT, i.shape)),
    output: spec.outputs.map((o) => valueInfo(o, FLOAT)),
    initializer,
    node: spec.nodes.map((n, k) => ({ name: `${n.op}_${k}`, opType: n.op, ...(n.domain ? { domain: n.domain } : {}), input: [...n.inputs], output: [...n.outputs], attribute: attributes(n.attrs ?? {}) })),
  };
  const domains = [...new Set(spec.nodes.flatMap((n) => (n.domain ? [n.domain] : [])))];
  return encodeModel(graph, { opset: OPSET, domains: Object.fromEntries(domains.map((d) => [d, 1])) });
}
