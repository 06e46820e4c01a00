// An ONNX model that is already integer (a QDQ graph or QLinear / *Integer ops, as onnxruntime's quantizer and other
// tools write them): flexq does not import its integers, but reads its interface, so onnxruntime can run the file
// as it is (a target's foreign executor) beside flexq's executors on the same data.
import pkg from 'onnx-proto';
import { fail } from '../errors.js';
import type { Graph, Value } from '../ir/graph.js';
import type { Dim } from '../ir/shape.js';

const { onnx } = pkg;

/** Ops that mark a model whose arithmetic is integer. */
const INTEGER_OPS = new Set(['QuantizeLinear', 'DequantizeLinear', 'QLinearConv', 'QLinearMatMul', 'ConvInteger', 'MatMulInteger', 'DynamicQuantizeLinear']);

function decode(bytes: Uint8Array): pkg.onnx.IModelProto | undefined {
  try {
    return onnx.ModelProto.decode(bytes);
  } catch {
    return undefined; // not ONNX: the float importer reports it
  }
}

/** True when the ONNX model computes in integers (see INTEGER_OPS). */
export function isIntegerOnnx(bytes: Uint8Array): boolean {
  return (decode(bytes)?.graph?.node ?? []).some((n) => INTEGER_OPS.has(n.opType ?? ''));
}

/** The model's graph inputs and outputs as a Graph without nodes: names and shapes (batch 'N' where symbolic). */
export function onnxInterface(bytes: Uint8Array, source: string): Graph {
  const graph = decode(bytes)?.graph ?? fail('MODEL_PARSE', `${source}: not a readable ONNX model`);
  const initializers = new Set((graph.initializer ?? []).map((t) => t.name));
  const value = (vi: pkg.onnx.IValueInfoProto, role: string): Value => {
    const tt = vi.type?.tensorType;
    if (!tt || tt.elemType !== onnx.TensorProto.DataType.FLOAT)
      fail('UNSUPPORTED_ATTR', `${source}: graph ${role} '${vi.name}' is not a float32 tensor; flexq runs integer ONNX models with float inputs and outputs (QuantizeLinear / DequantizeLinear inside)`);
    const shape: Dim[] = (tt.shape?.dim ?? []).map((d, i) => (d.dimValue !== undefined && d.dimValue !== null && Number(d.dimValue) > 0 ? Number(d.dimValue) : i === 0 ? 'N' : `${vi.name}:${i}`));
    return { name: vi.name ?? '', dtype: 'float32', shape };
  };
  const inputs = (graph.input ?? []).filter((vi) => !initializers.has(vi.name)).map((vi) => value(vi, 'input'));
  const outputs = (graph.output ?? []).map((vi) => value(vi, 'output'));
  if (inputs.length !== 1) fail('UNSUPPORTED_ATTR', `${source}: ${inputs.length} graph inputs; flexq runs models with one input`);
  return {
    name: graph.name ?? 'main',
    source,
    inputs: inputs.map((v) => v.name),
    outputs: outputs.map((v) => v.name),
    nodes: [],
    values: new Map([...inputs, ...outputs].map((v) => [v.name, v])),
  };
}
