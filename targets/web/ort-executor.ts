// The QDQ model (src/export/onnx-qdq.ts) run by onnxruntime: onnxruntime-node (native MLAS) or onnxruntime-web (its
// wasm build, single-threaded, in Node). The model is built in memory from the QuantizedGraph; asking for
// intermediate activations builds (once per set of names) a model that also outputs them (int8, or uint8 = int8 + 128).
// onnxruntime on x86-64 without VNNI refuses int8×int8 Conv/MatMul fusion by default (QDQIsInt8Allowed() is false:
// its u8s8 AVX2 kernels can saturate) and then runs those layers in float between DQ and Q; the session option
// session.qdqisint8allowed=1 makes it fuse them into QLinearConv / QLinearMatMul on s8s8 kernels, which are exact.
// Each kind runs the flavour (src/export/onnx-qdq.ts) that is fast and exact on it: onnxruntime-web the uint8-activation
// 'ort-web' flavour (its wasm SIMD kernels are u8·s8); onnxruntime-node the 'ort-node' flavour when every weight fits
// [−64, 63] (its AVX2 u8s8 kernels saturate otherwise), else the generic int8 one. uint8 outputs are int8 + 128.

import { fileURLToPath } from 'node:url';
import type { InferenceSession as Session, Tensor as OrtTensor } from 'onnxruntime-common';
import type { FloatTensor } from '../../src/tensor.js';
import type { BatchExecutor } from '../../src/target.js';
import type { ActivationQuant, QuantizedGraph } from '../../src/ir/quantized-graph.js';
import { buildQdqModel, weightOutsideOrtNodeRange, type QdqFlavour } from '../../src/export/onnx-qdq.js';

export type OrtKind = 'node' | 'web';

/** What flexq uses of an onnxruntime package: both packages export onnxruntime-common's API. */
interface OrtApi {
  readonly InferenceSession: { create(model: Uint8Array, options?: Session.SessionOptions): Promise<Session> };
  readonly Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => OrtTensor;
}

/** Session options both kinds use: full optimization, int8 QDQ fusion allowed (see the top). */
export const ORT_SESSION_OPTIONS: Session.SessionOptions = {
  graphOptimizationLevel: 'all',
  extra: { session: { qdqisint8allowed: '1' } },
};

/**
 * onnxruntime-web's: ORT_SESSION_OPTIONS with its wasm worker threads blocking instead of spinning between kernels
 * (no effect with 1 thread). An int8 model runs several times more (small) parallel sections than its float model
 * (QuantizeLinear, DequantizeLinear, Sum, Transpose between the QLinear kernels), and a spinning worker takes the core
 * the main thread needs whenever the machine has other work: ResNet-8 int8 with 2 threads on a shared 2-core machine
 * ran 10.2 ms (median) spinning and 2.5 ms blocking, beside 3.1 / 2.7 ms for its float model.
 */
export const ORT_WEB_SESSION_OPTIONS: Session.SessionOptions = {
  ...ORT_SESSION_OPTIONS,
  extra: { session: { qdqisint8allowed: '1', intra_op: { allow_spinning: '0' } } },
};

/** The session options of an onnxruntime kind. */
export const ortSessionOptions = (kind: OrtKind): Session.SessionOptions => (kind === 'web' ? ORT_WEB_SESSION_OPTIONS : ORT_SESSION_OPTIONS);

/** The dist folder of onnxruntime-web: its .wasm and .mjs files (the page serves them too). */
export const ORT_WEB_DIST = fileURLToPath(new URL('../../node_modules/onnxruntime-web/dist/', import.meta.url));

/** Loads an onnxruntime package; the wasm one single-threaded (Node has no cross-origin-isolated workers here). */
export async function loadOrt(kind: OrtKind): Promise<OrtApi> {
  if (kind === 'node') return (await import('onnxruntime-node')) as unknown as OrtApi;
  const web = await import('onnxruntime-web');
  web.env.wasm.numThreads = 1;
  return web as unknown as OrtApi;
}

/** The QDQ flavour an onnxruntime kind runs exactly and fastest (see the top). */
export function qdqFlavourFor(q: QuantizedGraph, kind: OrtKind): QdqFlavour {
  if (kind === 'web') return 'ort-web';
  return weightOutsideOrtNodeRange(q) ? 'generic' : 'ort-node';
}

/**
 * real = scale · (q − zeroPoint) as float32, through a 256-entry table indexed by q + 128 (the runtime's dequantize
 * gives the same floats); a uint8 tensor already holds q + 128.
 */
function dequantizeActivation(data: Int8Array | Uint8Array, grid: ActivationQuant): Float32Array {
  const table = Float32Array.from({ length: 256 }, (_, i) => grid.scale * (i - 128 - grid.zeroPoint));
  const out = new Float32Array(data.length);
  if (data instanceof Uint8Array) for (let i = 0; i < data.length; i++) out[i] = table[data[i]];
  else for (let i = 0; i < data.length; i++) out[i] = table[data[i] + 128];
  return out;
}

/**
 * An executor of a quantized graph on onnxruntime-node or -web: float in, float out (integers dequantized by their
 * grid); `flavour` defaults to the one the kind runs exactly and fastest.
 */
export async function createOrtExecutor(q: QuantizedGraph, kind: OrtKind, flavour: QdqFlavour = qdqFlavourFor(q, kind)): Promise<BatchExecutor> {
  const ort = await loadOrt(kind);
  const { graph } = q;
  const sessions = new Map<string, Promise<Session>>();
  const sessionFor = (extra: readonly string[]): Promise<Session> => {
    const key = extra.join('\n');
    let s = sessions.get(key);
    if (!s) {
      s = ort.InferenceSession.create(buildQdqModel(q, { io: 'float', extraOutputs: extra, flavour }), ortSessionOptions(kind));
      sessions.set(key, s);
    }
    return s;
  };
  await sessionFor([]);
  return {
    name: `ort-${kind}`,
    graph,
    async run(input, outputs = graph.outputs) {
      const extra = outputs.filter((v) => !graph.outputs.includes(v) && !graph.inputs.includes(v) && q.activations.has(v));
      const session = await sessionFor(extra);
      const result = await session.run({ [graph.inputs[0]]: new ort.Tensor('float32', input.data, input.shape) });
      const out = new Map<string, FloatTensor>();
      for (const v of graph.outputs) out.set(v, { shape: result[v].dims, data: result[v].data as Float32Array });
      for (const v of extra) out.set(v, { shape: result[v].dims, data: dequantizeActivation(result[v].data as Int8Array | Uint8Array, q.activations.get(v)!) });
      return out;
    },
    async dispose() {
      for (const s of sessions.values()) await (await s).release();
      sessions.clear();
    },
  };
}
