// Building ONNX protos: the one set of helpers every ONNX flexq writes goes through (the QDQ export, the
// reconstruction backend's small graphs, the demo model), so attributes, tensors and models are made one way.
import pkg from 'onnx-proto';
import type { DType } from './ir/dtype.js';

const { onnx } = pkg;
export type NodeProto = pkg.onnx.INodeProto;
export type TensorProto = pkg.onnx.ITensorProto;
export type AttributeProto = pkg.onnx.IAttributeProto;
export type ValueInfoProto = pkg.onnx.IValueInfoProto;
export type GraphProto = pkg.onnx.IGraphProto;

/** The TensorProto data type of each IR dtype. */
export const ONNX_TYPE: Readonly<Record<DType, number>> = { float32: 1, uint8: 2, int8: 3, int32: 6, int64: 7, bool: 9 };

const { INT, INTS, FLOAT, STRING } = onnx.AttributeProto.AttributeType;
export const intsAttribute = (name: string, v: readonly number[]): AttributeProto => ({ name, type: INTS, ints: [...v] });
export const intAttribute = (name: string, v: number): AttributeProto => ({ name, type: INT, i: v });
export const floatAttribute = (name: string, v: number): AttributeProto => ({ name, type: FLOAT, f: v });
export const stringAttribute = (name: string, v: string): AttributeProto => ({ name, type: STRING, s: new TextEncoder().encode(v) });

/** Attributes from a record of ints and int lists (what conv/pool/gemm attributes are). */
export const intAttributes = (attrs: Readonly<Record<string, number | readonly number[]>>): AttributeProto[] =>
  Object.entries(attrs).map(([name, v]) => (typeof v === 'number' ? intAttribute(name, v) : intsAttribute(name, v)));

/** A tensor with little-endian raw_data (typed arrays are little-endian on every platform Node runs on). */
export function rawTensor(name: string, dtype: DType, dims: readonly number[], data: ArrayBufferView): TensorProto {
  return { name, dataType: ONNX_TYPE[dtype], dims: [...dims], rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice() };
}

/** A graph input or output: fixed dims as numbers, symbolic ones as names; no shape at all when `dims` is absent. */
export function valueInfo(name: string, elemType: number, dims?: readonly (number | string)[]): ValueInfoProto {
  const shape = dims ? { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } : undefined;
  return { name, type: { tensorType: { elemType, shape } } };
}

export interface ModelInfo {
  readonly opset: number;
  /** Opsets of other operator domains the graph's nodes use (onnxruntime's 'com.microsoft.nchwc'). */
  readonly domains?: Readonly<Record<string, number>>;
  readonly producerName?: string;
  readonly producerVersion?: string;
  readonly docString?: string;
  readonly metadata?: Readonly<Record<string, string>>;
}

/** The model's bytes (IR version 8). */
export function encodeModel(graph: GraphProto, m: ModelInfo): Uint8Array {
  return onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 8,
      opsetImport: [{ domain: '', version: m.opset }, ...Object.entries(m.domains ?? {}).map(([domain, version]) => ({ domain, version }))],
      graph,
      ...(m.producerName ? { producerName: m.producerName } : {}),
      ...(m.producerVersion ? { producerVersion: m.producerVersion } : {}),
      ...(m.docString ? { docString: m.docString } : {}),
      ...(m.metadata ? { metadataProps: Object.entries(m.metadata).map(([key, value]) => ({ key, value })) } : {}),
    }),
  ).finish();
}
