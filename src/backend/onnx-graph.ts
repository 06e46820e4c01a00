// Tiny single-purpose ONNX models built in code for onnxruntime: the operands that change every iteration
// (activations, weights, gradients) are graph inputs; only fixed helper tensors (shapes, axes) are initializers.
import pkg from 'onnx-proto';

const { onnx } = pkg;

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
export const FLOAT = 1;
const INT64 = 7;
const OPSET = 17;

function attribute(name: string, v: OnnxAttr): pkg.onnx.IAttributeProto {
  return typeof v === 'number'
    ? { name, type: onnx.AttributeProto.AttributeType.INT, i: v }
    : { name, type: onnx.AttributeProto.AttributeType.INTS, ints: [...v] };
}

const floatValue = (name: string, shape?: readonly number[]): pkg.onnx.IValueInfoProto => ({
  name,
  type: { tensorType: { elemType: FLOAT, shape: shape ? { dim: shape.map((d) => ({ dimValue: d })) } : undefined } },
});

/** Encodes the spec as an opset-17 ONNX model. */
export function encodeOnnxGraph(spec: OnnxGraphSpec): Uint8Array {
  const initializer = Object.entries(spec.int64Constants ?? {}).map(([name, values]) => ({
    name,
    dataType: INT64,
    dims: [values.length],
    rawData: new Uint8Array(BigInt64Array.from(values, (v) => BigInt(v)).buffer),
  }));
  for (const [name, value] of Object.entries(spec.floatConstants ?? {}))
    initializer.push({ name, dataType: FLOAT, dims: [], rawData: new Uint8Array(Float32Array.of(value).buffer) });
  const graph: pkg.onnx.IGraphProto = {
    name: 'flexq_backend_op',
    input: spec.inputs.map((i) => floatValue(i.name, i.shape)),
    output: spec.outputs.map((o) => floatValue(o)),
    initializer,
    node: spec.nodes.map((n, k) => ({
      name: `${n.op}_${k}`,
      opType: n.op,
      input: [...n.inputs],
      output: [...n.outputs],
      attribute: Object.entries(n.attrs ?? {}).map(([name, v]) => attribute(name, v)),
    })),
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: OPSET }], graph })).finish();
}
