// An integer ONNX model another tool made, run as it is by onnxruntime: float in, float out (its own QuantizeLinear /
// DequantizeLinear), one sample at a time when the file fixes its batch at 1.
import type { FloatTensor } from '../../src/tensor.js';
import type { ForeignExecutorFactory } from '../../src/target.js';
import { loadOrt, ortSessionOptions, type OrtKind } from './ort-executor.js';

export const foreignOrt = (kind: OrtKind): ForeignExecutorFactory => async (a) => {
  const ort = await loadOrt(kind);
  const session = await ort.InferenceSession.create(a.bytes, ortSessionOptions(kind));
  const { graph } = a;
  const input = graph.inputs[0];
  const perSample = graph.values.get(input)!.shape[0] === 1;
  return {
    name: `ort-${kind} (the file as it is)`,
    graph,
    async run(x) {
      const [n, ...sample] = x.shape;
      const size = x.data.length / n;
      const parts = perSample ? Array.from({ length: n }, (_, i) => ({ shape: [1, ...sample], data: x.data.subarray(i * size, (i + 1) * size) })) : [x];
      const results = [];
      for (const p of parts) results.push(await session.run({ [input]: new ort.Tensor('float32', p.data, p.shape) }));
      const out = new Map<string, FloatTensor>();
      for (const name of graph.outputs) {
        const chunks = results.map((r) => r[name].data as Float32Array);
        const data = new Float32Array(chunks.reduce((s, c) => s + c.length, 0));
        chunks.reduce((at, c) => (data.set(c, at), at + c.length), 0);
        out.set(name, { shape: [n, ...results[0][name].dims.slice(1)], data });
      }
      return out;
    },
    dispose: () => session.release(),
  };
};
