// A whole reconstruction unit compiled into one backend graph (TensorBackend.unitStep) against the same unit taken
// node by node (forwardNode / backwardNode, the path every backend has): the loss, ∂L/∂w for every weight and ∂L/∂x
// at the unit's input, on the real residual blocks and separable pairs of ResNet-8, DS-CNN and MobileNetV2; on
// ort-cpu, and on ort-webgpu (every node on the device) where Dawn finds an adapter.
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tensor, TensorBackend } from '../../src/backend/backend.js';
import * as E from '../../src/backend/elementwise.js';
import { encodeOnnxGraph } from '../../src/backend/onnx-graph.js';
import { createOrtBackend, ORT_SESSION_OPTIONS } from '../../src/backend/ort.js';
import { unitStepGraph } from '../../src/backend/ort-graphs.js';
import { openBackend } from '../../src/backend/select.js';
import { probeWebGpuAdapter } from '../../src/backend/webgpu-adapter.js';
import type { Graph, Node } from '../../src/ir/graph.js';
import { loadModel } from '../../src/load-model.js';
import { reconstructionUnits, type ReconstructionUnit } from '../../src/quant/blocks.js';
import { backwardNode, forwardNode, unitProgram, unitStep } from '../../src/quant/node-autodiff.js';
import { mulberry32 } from '../../src/random.js';
import { hasShared, model } from '../helpers/shared.js';

const BATCH = 2;

function random(shape: readonly number[], seed: number): Tensor {
  const r = mulberry32(seed);
  return { shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => r() * 2 - 0.8) };
}

/** The unit node by node with the float weights: loss, ∂L/∂w per weighted node, ∂L/∂(unit input). */
async function nodeByNode(b: TensorBackend, graph: Graph, unit: ReconstructionUnit, x: Tensor, target: Tensor) {
  const values = new Map<string, Tensor>([[unit.input, x]]);
  for (const n of unit.nodes) values.set(n.outputs[0], await forwardNode(b, graph, n, n.inputs.filter((v) => values.has(v)).map((v) => values.get(v)!)));
  const { loss, dy } = E.reconstructionLoss(values.get(unit.output)!, target);
  const grads = new Map<string, Float32Array>([[unit.output, dy.data]]);
  const dws = new Map<Node, Float32Array>();
  for (const n of [...unit.nodes].reverse()) {
    const ins = n.inputs.filter((v) => values.has(v));
    const y = values.get(n.outputs[0])!;
    const g = await backwardNode(b, graph, n, ins.map((v) => values.get(v)!), y, { shape: y.shape, data: grads.get(n.outputs[0])! }, undefined, ins.map(() => true));
    if (g.dw) dws.set(n, g.dw);
    ins.forEach((v, j) => {
      const d = g.dxs[j]!.data;
      const acc = grads.get(v);
      grads.set(v, acc ? acc.map((a, i) => a + d[i]) : d);
    });
  }
  return { loss, dws, dx: grads.get(unit.input)! };
}

/** max |a − b| / max |b|. */
function deviation(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    worst = Math.max(worst, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return a.length === b.length ? worst / scale : Infinity;
}

const MODELS = ['resnet8-cifar10/float.onnx', 'dscnn-kws/float.onnx', 'mobilenetv2-imagenet/float-from-int8.onnx'];

const adapter = (await probeWebGpuAdapter()).adapter;
let cpu: TensorBackend;
let gpu: TensorBackend | undefined;
beforeAll(async () => {
  cpu = await createOrtBackend('cpu');
  if (adapter) gpu = await openBackend('webgpu');
}, 60_000);
afterAll(async () => {
  await cpu?.dispose();
  await gpu?.dispose();
});

describe.skipIf(!hasShared).each(MODELS)('%s: every multi-node block compiled whole = node by node', (file) => {
  const { graph } = hasShared ? loadModel(model(file), {}) : { graph: undefined as unknown as Graph };
  // MobileNetV2's first inverted residuals (with and without the skip) keep CI time small; the others repeat them.
  const units = hasShared ? reconstructionUnits(graph, 'block').filter((u) => u.nodes.length > 1).slice(0, 4) : [];

  it('has blocks the backend can compile', () => {
    expect(units.length).toBeGreaterThan(0);
    for (const u of units) expect(unitProgram(graph, u.nodes, u.input, u.output, BATCH), u.name).toBeDefined();
  });

  it.each(units.map((u) => [u.nodes.map((n) => n.op).join('+'), u] as const))('%s: loss, ∂L/∂w, ∂L/∂x agree (relative deviation < 1e-5)', async (_, unit) => {
    const x = random(unitProgram(graph, unit.nodes, unit.input, unit.output, BATCH)!.shapes[unit.input], 1);
    const program = unitProgram(graph, unit.nodes, unit.input, unit.output, BATCH)!;
    const target = random(program.shapes[unit.output], 2);
    const want = await nodeByNode(cpu, graph, unit, x, target);
    const got = await unitStep(cpu, graph, program, unit.nodes, x, new Map(), target, E.positions(target), true);
    expect(Math.abs(got.loss - want.loss) / want.loss).toBeLessThan(1e-5);
    for (const [n, dw] of want.dws) expect(deviation(got.weightGrads.get(n)!, dw), n.name).toBeLessThan(1e-5);
    expect(deviation(got.dx!, want.dx)).toBeLessThan(1e-5);
    const weightsOnly = await unitStep(cpu, graph, program, unit.nodes, x, new Map(), target, E.positions(target), false);
    expect(weightsOnly.dx).toBeUndefined();
    expect(weightsOnly.loss).toBe(got.loss);
    if (!gpu) return;
    // The same graph on WebGPU (in CI: llvmpipe), wholly on the device.
    const strict = { ...ORT_SESSION_OPTIONS.webgpu, extra: { session: { disable_cpu_ep_fallback: '1' } } };
    await (await ort.InferenceSession.create(encodeOnnxGraph(unitStepGraph(program, E.positions(target), true)), strict)).release();
    const onGpu = await unitStep(gpu, graph, program, unit.nodes, x, new Map(), target, E.positions(target), true);
    expect(Math.abs(onGpu.loss - want.loss) / want.loss).toBeLessThan(1e-5);
    for (const [n, dw] of want.dws) expect(deviation(onGpu.weightGrads.get(n)!, dw), `${n.name} on WebGPU`).toBeLessThan(1e-5);
    expect(deviation(onGpu.dx!, want.dx)).toBeLessThan(1e-5);
  }, 120_000);
});
