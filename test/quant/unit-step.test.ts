// A whole reconstruction unit compiled into one backend graph (TensorBackend.unitStep) against the same unit taken
// node by node (forwardNode / backwardNode, the path every backend has): the loss, ∂L/∂w for every weight and ∂L/∂x
// at the unit's input, on the real residual blocks and separable pairs of ResNet-8, DS-CNN and MobileNetV2; on
// ort-cpu, and on ort-webgpu (every node on the device) where Dawn finds an adapter.
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TensorBackend } from '../../src/backend/backend.js';
import type { FloatTensor } from '../../src/tensor.js';
import * as E from '../../src/backend/typed-array-ops.js';
import { encodeOnnxGraph, NCHWC_DOMAIN } from '../../src/backend/onnx-graph.js';
import { createOrtBackend, ORT_SESSION_OPTIONS } from '../../src/backend/ort.js';
import { unitStepGraph } from '../../src/backend/ort-graphs.js';
import { openBackend } from '../../src/backend/select.js';
import { probeWebGpuAdapter } from '../../src/backend/webgpu-adapter.js';
import type { Graph, Node } from '../../src/ir/graph.js';
import { loadModel } from '../../src/load-model.js';
import { reconstructionUnits, type ReconstructionUnit } from '../../src/quant/blocks.js';
import type { UnitQuantizer } from '../../src/backend/backend.js';
import { fakeQuantize, fakeQuantizeBackward, LearnedStep, qdropMask } from '../../src/quant/lsq.js';
import { backwardNode, forwardNode, unitProgram, unitStep } from '../../src/quant/node-autodiff.js';
import { mulberry32 } from '../../src/random.js';
import { sizeOf } from '../../src/ir/shape.js';
import { hasShared, model, relativeMaxError } from '../helpers/shared.js';

const BATCH = 2;
const NO_QUANTIZATION = { steps: [], masks: [] };

function random(shape: readonly number[], seed: number): FloatTensor {
  const r = mulberry32(seed);
  return { shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => r() * 2 - 0.8) };
}

/** A fake quantizer inside the unit for the reference: its step, and QDrop's mask when it has one. */
interface Inside {
  readonly step: LearnedStep;
  readonly mask?: Uint8Array;
}

/**
 * The unit node by node with the float weights: loss, ∂L/∂w per weighted node, ∂L/∂(unit input), and ∂L/∂log s per
 * inside quantizer (lsq.ts's fake quantizer and QDrop's masking, as UnitTrainer's node-by-node path applies them).
 */
async function nodeByNode(b: TensorBackend, graph: Graph, unit: ReconstructionUnit, x: FloatTensor, target: FloatTensor, inside = new Map<string, Inside>()) {
  const values = new Map<string, FloatTensor>([[unit.input, x]]);
  const fed = new Map<string, FloatTensor>([[unit.input, x]]);
  const tapes = new Map<string, ReturnType<typeof fakeQuantize>['tape']>();
  const feed = (v: string): FloatTensor => {
    const q = inside.get(v);
    if (!fed.has(v) && q) {
      const raw = values.get(v)!;
      const { y, tape } = fakeQuantize(raw.data, q.step);
      tapes.set(v, tape);
      fed.set(v, { shape: raw.shape, data: q.mask ? y.map((yi, i) => (q.mask![i] ? raw.data[i] : yi)) : y });
    }
    return fed.get(v) ?? values.get(v)!;
  };
  for (const n of unit.nodes) values.set(n.outputs[0], await forwardNode(b, graph, n, n.inputs.filter((v) => values.has(v)).map(feed)));
  const { loss, dy } = E.reconstructionLoss(values.get(unit.output)!, target);
  const grads = new Map<string, Float32Array>([[unit.output, dy.data]]);
  const dws = new Map<Node, Float32Array>();
  const dLogSteps = new Map<string, number>();
  for (const n of [...unit.nodes].reverse()) {
    const ins = n.inputs.filter((v) => values.has(v));
    const y = values.get(n.outputs[0])!;
    let gy = grads.get(n.outputs[0])!;
    const q = inside.get(n.outputs[0]);
    if (q) {
      const kept = q.mask ? gy.map((g, i) => (q.mask![i] ? 0 : g)) : gy;
      const back = fakeQuantizeBackward(kept, tapes.get(n.outputs[0])!, q.step);
      dLogSteps.set(n.outputs[0], back.dLogStep);
      gy = back.dx;
    }
    const g = await backwardNode(b, graph, n, ins.map((v) => fed.get(v) ?? values.get(v)!), y, { shape: y.shape, data: gy }, undefined, ins.map(() => true));
    if (g.dw) dws.set(n, g.dw);
    ins.forEach((v, j) => {
      const d = g.dxs[j]!.data;
      const acc = grads.get(v);
      grads.set(v, acc ? acc.map((a, i) => a + d[i]) : d);
    });
  }
  return { loss, dws, dx: grads.get(unit.input)!, dLogSteps };
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
    const got = await unitStep(cpu, graph, program, unit.nodes, x, new Map(), NO_QUANTIZATION, target, E.positions(target), true);
    expect(Math.abs(got.loss - want.loss) / want.loss).toBeLessThan(1e-5);
    for (const [n, dw] of want.dws) expect(relativeMaxError(got.weightGrads.get(n)!, dw), n.name).toBeLessThan(1e-5);
    expect(relativeMaxError(got.dx!, want.dx)).toBeLessThan(1e-5);
    const weightsOnly = await unitStep(cpu, graph, program, unit.nodes, x, new Map(), NO_QUANTIZATION, target, E.positions(target), false);
    expect(weightsOnly.dx).toBeUndefined();
    expect(weightsOnly.loss).toBe(got.loss);
    if (!gpu) return;
    // The same graph on WebGPU (in CI: llvmpipe), wholly on the device.
    const strict = { ...ORT_SESSION_OPTIONS.webgpu, extra: { session: { disable_cpu_ep_fallback: '1' } } };
    await (await ort.InferenceSession.create(encodeOnnxGraph(unitStepGraph(program, E.positions(target), true)), strict)).release();
    const onGpu = await unitStep(gpu, graph, program, unit.nodes, x, new Map(), NO_QUANTIZATION, target, E.positions(target), true);
    expect(Math.abs(onGpu.loss - want.loss) / want.loss).toBeLessThan(1e-5);
    for (const [n, dw] of want.dws) expect(relativeMaxError(onGpu.weightGrads.get(n)!, dw), `${n.name} on WebGPU`).toBeLessThan(1e-5);
    expect(relativeMaxError(onGpu.dx!, want.dx)).toBeLessThan(1e-5);
  }, 120_000);
});

describe.skipIf(!hasShared)('a ResNet-8 residual block compiled for the CPU', () => {
  // The block's numbers on the CPU are checked above (ort-cpu's graph against node by node); this pins which kernels it gets.
  it('runs its 3×3 forward and input-gradient convs in NCHWc blocks, and nothing outside standard ONNX without the CPU kernels', () => {
    const { graph } = loadModel(model('resnet8-cifar10/float.onnx'), {});
    const unit = reconstructionUnits(graph, 'block').find((u) => u.nodes.some((n) => n.op === 'Add'))!;
    const program = unitProgram(graph, unit.nodes, unit.input, unit.output, BATCH)!;
    const convs = program.ops.filter((op) => op.kind === 'conv').length;
    const nchwcConvs = (cpu: { nchwcBlock: number }) => unitStepGraph(program, 100, true, cpu).nodes.filter((n) => n.op === 'Conv' && n.domain === NCHWC_DOMAIN).length;
    expect(convs).toBe(2);
    expect(nchwcConvs({ nchwcBlock: 8 })).toBe(2 * convs);
    expect(unitStepGraph(program, 100, true).nodes.filter((n) => n.domain !== undefined)).toEqual([]);
  });
});

describe.skipIf(!hasShared)('ResNet-8 and MobileNetV2 blocks with 8-bit activations inside (LSQ, QDrop) compiled whole = node by node', () => {
  const cases = hasShared
    ? (['resnet8-cifar10/float.onnx', 'mobilenetv2-imagenet/float-from-int8.onnx'] as const).flatMap((file) => {
        const { graph } = loadModel(model(file), {});
        const unit = reconstructionUnits(graph, 'block').find((u) => u.nodes.some((n) => n.op === 'Add'))!;
        return [false, true].map((qdrop) => [`${file.split('/')[0]} ${unit.nodes.map((n) => n.op).join('+')}${qdrop ? ', QDrop' : ''}`, graph, unit, qdrop] as const);
      })
    : [];

  it.each(cases)('%s: loss, ∂L/∂w, ∂L/∂x, ∂L/∂log s agree', async (_, graph, unit, qdrop) => {
    const produced = new Set(unit.nodes.map((n) => n.outputs[0]));
    const values = [...new Set(unit.nodes.flatMap((n) => n.inputs))].filter((v) => produced.has(v));
    const quantizers: UnitQuantizer[] = values.map((value) => ({ value, lo: -128, hi: 127, qdrop }));
    const program = unitProgram(graph, unit.nodes, unit.input, unit.output, BATCH, quantizers)!;
    const x = random(program.shapes[unit.input], 3);
    const target = random(program.shapes[unit.output], 4);
    const rng = mulberry32(5);
    // Steps that put a few percent of each activation outside the 8-bit range, so both branches of LSQ's gradient count.
    const inside = new Map(values.map((v) => [v, { step: new LearnedStep({ scale: 0.004, zeroPoint: 0, bits: 8, qmin: -128, qmax: 127 }), mask: qdrop ? qdropMask(sizeOf(program.shapes[v]), rng) : undefined }]));
    const want = await nodeByNode(cpu, graph, unit, x, target, inside);
    const quantization = { steps: values.map((v) => inside.get(v)!.step.step), masks: values.map((v) => inside.get(v)!.mask) };
    // On the CPU the graph's convolutions round as the reference's do, so the same elements land on the same grid
    // points. On a GPU they round otherwise, and an activation within a last bit of a rounding tie or of the clamp
    // can take the neighbouring grid point: ∂x then moves by a few percent at those elements (up to 1.7e-2 of the
    // largest on MobileNetV2 with QDrop, llvmpipe), the sums over them less.
    for (const [b, tolerance] of [[cpu, 1e-3], [gpu, 5e-2]] as const) {
      if (!b) continue;
      const got = await unitStep(b, graph, program, unit.nodes, x, new Map(), quantization, target, E.positions(target), true);
      expect(Math.abs(got.loss - want.loss) / want.loss, b.name).toBeLessThan(1e-4);
      for (const [n, dw] of want.dws) expect(relativeMaxError(got.weightGrads.get(n)!, dw), `${n.name} on ${b.name}`).toBeLessThan(tolerance);
      expect(relativeMaxError(got.dx!, want.dx), b.name).toBeLessThan(tolerance);
      values.forEach((v, k) => expect(Math.abs(got.dLogSteps[k] - want.dLogSteps.get(v)!) / Math.abs(want.dLogSteps.get(v)!), `${v} on ${b.name}`).toBeLessThan(tolerance));
    }
  }, 120_000);
});
