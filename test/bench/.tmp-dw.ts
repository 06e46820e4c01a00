// scratch: depthwise QLinearConv → exact integer-valued float Conv + Mul + Clip + Q(scale 1); time + exactness in ort-web
import pkg from 'onnx-proto';
import { quantize } from '../../src/index.js';
import { buildQdqModel } from '../../src/export/onnx-qdq.js';
import { loadOrt, ORT_SESSION_OPTIONS } from '../../targets/web/ort-executor.js';
import { createIntegerRuntime } from '../../runtime/executor.js';
import { onnxOutputScale } from '../../runtime/requant/index.js';
import { fusedActivationRange } from '../../runtime/kernels/gemm.js';
import { openDataset } from '../../calibration/index.js';
import { data, model } from '../helpers/shared.js';
const F = model('mobilenetv2-imagenet/float-from-int8.onnx');
const q = await quantize(F, { calib: data('imagenet-sample'), limit: 16, offset: 100, preprocess: 'imagenet', method: 'rtn' });
const m = pkg.onnx.ModelProto.decode(buildQdqModel(q, { io: 'float', flavour: 'ort-web' }));
const g = m.graph!;
const f32 = (name: string, v: number) => ({ name, dataType: 1, dims: [], rawData: new Uint8Array(Float32Array.of(v).buffer) });
let n = 0;
for (const node of q.graph.nodes) {
  if (node.op !== 'Conv' || Number(node.attrs.group ?? 1) === 1) continue;
  const [x, w, b] = node.inputs; const y = node.outputs[0];
  const gx = q.activations.get(x)!, gy = q.activations.get(y)!, qw = q.weights.get(w)!;
  const k = (node.attrs.kernel as number[]).reduce((a, c) => a * c, 1);
  const qb = q.biases.get(b)!; const maxb = Math.max(...Array.from(qb.values, Math.abs));
  if (maxb + k * 255 * 127 >= 2 ** 24) { console.error('skip', node.name); continue; }
  const conv = g.node!.find((nd) => nd.name === node.name)!;
  const idx = g.node!.indexOf(conv);
  const after = g.node!.slice(idx + 1).filter((nd) => nd.name === `${node.name}/Relu` || nd.name === `${node.name}/Clip`);
  const qnode = g.node!.find((nd) => nd.opType === 'QuantizeLinear' && nd.output![0] === y)!;
  // DQ(x, 1, zp_x), DQ(w, 1, 0), DQ(b, 1, 0)
  g.initializer!.push(f32(`${node.name}/one`, 1));
  const one = `${node.name}/one`;
  const nodes = [
    { name: `${node.name}/dqx1`, opType: 'DequantizeLinear', input: [x, `${x}.scale`.replace(/^/, ''), `${x}.zero_point`], output: [`${node.name}/xi`] },
    { name: `${node.name}/dqw1`, opType: 'DequantizeLinear', input: [`${w}.q`, one, `${w}.zero_point`], output: [`${node.name}/wi`] },
    { name: `${node.name}/dqb1`, opType: 'DequantizeLinear', input: [`${b}.q`, one, `${b}.zero_point`], output: [`${node.name}/bi`] },
  ];
  nodes[0].input[1] = one;
  const mult = onnxOutputScale(gx.scale, qw.scale, gy.scale);
  const range = fusedActivationRange(String(node.attrs.activation ?? 'none') as 'none', gy);
  g.initializer!.push(f32(`${node.name}/mult`, mult), f32(`${node.name}/lo`, range.min - gy.zeroPoint), f32(`${node.name}/hi`, range.max - gy.zeroPoint), { name: `${node.name}/zpy`, dataType: 2, dims: [], rawData: Uint8Array.of(gy.zeroPoint + 128) });
  const newConv = { ...conv, input: [`${node.name}/xi`, `${node.name}/wi`, `${node.name}/bi`], output: [`${node.name}/acc`] };
  nodes.push(newConv as never,
    { name: `${node.name}/mul`, opType: 'Mul', input: [`${node.name}/acc`, `${node.name}/mult`], output: [`${node.name}/v`] },
    { name: `${node.name}/clip`, opType: 'Clip', input: [`${node.name}/v`, `${node.name}/lo`, `${node.name}/hi`], output: [`${node.name}/vc`] },
    { name: `${node.name}/q1`, opType: 'QuantizeLinear', input: [`${node.name}/vc`, one, `${node.name}/zpy`], output: [y] });
  g.node = g.node!.filter((nd) => nd !== conv && !after.includes(nd) && nd !== qnode);
  g.node.splice(Math.min(idx, g.node.length), 0, ...(nodes as never[]));
  n++;
}
console.error('rewrote', n);
// topological order: re-sort nodes
const produced = new Set<string>([...g.input!.map((i) => i.name!), ...g.initializer!.map((t) => t.name!), '']);
const out: typeof g.node = []; let rest = [...g.node!];
while (rest.length) { const ready = rest.filter((nd) => nd.input!.every((i) => produced.has(i))); if (!ready.length) throw new Error('cycle'); for (const r of ready) { out.push(r); r.output!.forEach((o) => produced.add(o)); } rest = rest.filter((r) => !ready.includes(r)); }
g.node = out;
const dwBytes = pkg.onnx.ModelProto.encode(m).finish();
const base = buildQdqModel(q, { io: 'float', flavour: 'ort-web' });
const ort = await loadOrt('web');
const ds = await openDataset({ path: data('imagenet-sample'), limit: 5, preprocess: 'imagenet', sampleShape: [3, 224, 224] });
const rt = createIntegerRuntime(q, 'onnx');
const s1 = await ort.InferenceSession.create(dwBytes, ORT_SESSION_OPTIONS);
const s0 = await ort.InferenceSession.create(base, ORT_SESSION_OPTIONS);
const fl = await ort.InferenceSession.create(F, ORT_SESSION_OPTIONS);
let mism = 0, tot = 0;
for await (const b of ds.batches(1)) {
  const x = new ort.Tensor('float32', b.data, [1, 3, 224, 224]);
  const a = (await s1.run({ [s1.inputNames[0]]: x }))[s1.outputNames[0]].data as Float32Array;
  const c = (await s0.run({ [s0.inputNames[0]]: x }))[s0.outputNames[0]].data as Float32Array;
  for (let i = 0; i < a.length; i++) { tot++; if (a[i] !== c[i]) mism++; }
}
console.error('output mismatches vs ort-web flavour', mism, '/', tot);
const x = new ort.Tensor('float32', new Float32Array(3 * 224 * 224).fill(0.3), [1, 3, 224, 224]);
const t: Record<string, number[]> = { dw: [], base: [], float: [] };
for (let r = 0; r < 12; r++) for (const [k, s] of [['dw', s1], ['base', s0], ['float', fl]] as const) { const st = performance.now(); await s.run({ [s.inputNames[0]]: x }); t[k].push(performance.now() - st); }
for (const k of Object.keys(t)) console.error(k, t[k].sort((a, b) => a - b)[6].toFixed(1), 'ms');
process.exit(0);
