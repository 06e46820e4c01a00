// A foreign int8 .tflite (the TFLite converter's) run as it is in LiteRT.js: its float-I/O copy (float-io.ts), so
// LiteRT's own QUANTIZE takes flexq's float inputs onto the model's input grid and DEQUANTIZE gives float outputs.
import { readTfliteModel } from '../../src/import/tflite/reader.js';
import { NHWC_TO_NCHW } from '../../src/ir/layout.js';
import type { ForeignExecutorFactory } from '../../src/target.js';
import { interpreterExecutor } from './executor.js';
import { withFloatIo } from './float-io.js';
import { openLiteRt } from './litert.js';

/** A rank-4 TFLite tensor is NHWC unless it already has the graph's NCHW shape (a model that takes NCHW input). */
function isNhwc(tflite: readonly number[], ir: readonly (number | string)[]): boolean {
  if (tflite.length !== 4) return false;
  const same = (a: readonly (number | string)[]) => a.slice(1).every((d, k) => d === ir[k + 1]);
  return !(same(tflite) && !same(NHWC_TO_NCHW.map((a) => tflite[a])));
}

export const foreignLiteRt: ForeignExecutorFactory = async (a) => {
  const sg = readTfliteModel(a.bytes, a.path).subgraphs[0];
  const shapeOf = (name: string) => a.graph.values.get(name)!.shape;
  const layout = {
    input: isNhwc(sg.tensors[sg.inputs[0]].shape, shapeOf(a.graph.inputs[0])),
    outputs: a.graph.outputs.map((name, k) => isNhwc(sg.tensors[sg.outputs[k]].shape, shapeOf(name))),
  };
  const interpreter = await openLiteRt(withFloatIo(a.bytes, a.path), a.path);
  return interpreterExecutor(`${interpreter.name} (XNNPACK delegate, the file as it is)`, interpreter, a.graph, layout);
};
