// Tiny single-purpose ONNX models built in code for onnxruntime: the operands that change every iteration
// (activations, weights, gradients) are graph inputs; only fixed helper tensors (shapes, axes) are initializers.
import { encodeModel, intAttributes, ONNX_TYPE, rawTensor, valueInfo, type GraphProto } from '../onnx-writer.js';

/** An ONNX node attribute: ints for lists, int for a number. */
export type OnnxAttr = number | readonly number[];

export interface OnnxNodeSpec {
  readonly op: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attrs?: Readonly<Record<string, OnnxAttr>>;
}

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

/** Encodes the spec as an opset-17 ONNX model. */
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
    node: spec.nodes.map((n, k) => ({ name: `${n.op}_${k}`, opType: n.op, input: [...n.inputs], output: [...n.outputs], attribute: intAttributes(n.attrs ?? {}) })),
  };
  return encodeModel(graph, { opset: OPSET });
}
