import pkg from 'onnx-proto';

const { onnx } = pkg;

/** A float initializer with raw little-endian data. */
export function floatInitializer(name: string, dims: number[], values: number[]): pkg.onnx.ITensorProto {
  return { name, dataType: 1, dims, rawData: new Uint8Array(Float32Array.from(values).buffer) };
}

export function tensorInput(name: string, dims: (number | string)[]): pkg.onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType: 1, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  };
}

/** Encodes a one-graph ONNX model at the given opset. */
export function encodeModel(graph: pkg.onnx.IGraphProto, opset = 13): Uint8Array {
  return onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: opset }], graph })).finish();
}
