// Runs one conv / gemm case on a backend under test and on the reference, and states each result's worst error
// as a fraction of its computed rounding bound (rounding-bound.ts).
import type { Activation, ConvParams, TensorBackend, UnitProgram } from '../../src/backend/backend.js';
import type { FloatTensor } from '../../src/tensor.js';
import { convGeometry } from '../../src/backend/conv-geometry.js';
import * as E from '../../src/backend/typed-array-ops.js';
import type { OnnxGraphSpec } from '../../src/backend/onnx-graph.js';
import { convForwardGraph, convInputGradientGraph, convWeightGradientGraph, gemmBackwardGraph, gemmForwardGraph, unitStepGraph } from '../../src/backend/ort-graphs.js';
import { mulberry32 } from '../../src/random.js';
import { relativeMaxError } from '../helpers/shared.js';
import { absolute, absoluteArray, boundRatio } from './rounding-bound.js';

export interface OpCase {
  readonly name: string;
  readonly x: readonly number[];
  readonly w: readonly number[];
  /** Absent for a gemm. */
  readonly p?: ConvParams;
}

export const conv = (strides: number, pads: readonly number[], group = 1, dilation = 1): ConvParams => ({
  strides: [strides, strides],
  pads: pads.length === 1 ? [pads[0], pads[0], pads[0], pads[0]] : (pads as [number, number, number, number]),
  dilations: [dilation, dilation],
  group,
});

/** Convolution and product cases every backend is checked on: strides, pads, groups, dilations, ResNet-8 and DS-CNN shapes. */
export const OP_CASES: OpCase[] = [
  { name: '3×3 stride 1 pad 1', x: [2, 4, 7, 7], w: [6, 4, 3, 3], p: conv(1, [1]) },
  { name: '3×3 stride 2 pad 1 (odd width)', x: [2, 4, 8, 7], w: [6, 4, 3, 3], p: conv(2, [1]) },
  { name: '3×3 stride 2 pads [0,0,1,1] (TF same)', x: [2, 4, 8, 8], w: [6, 4, 3, 3], p: conv(2, [0, 0, 1, 1]) },
  { name: '3×3 stride 1 no pad', x: [2, 3, 6, 5], w: [5, 3, 3, 3], p: conv(1, [0]) },
  { name: '1×1 stride 1', x: [2, 4, 5, 5], w: [6, 4, 1, 1], p: conv(1, [0]) },
  { name: '1×1 stride 2', x: [2, 4, 5, 5], w: [6, 4, 1, 1], p: conv(2, [0]) },
  { name: '10×4 stride 2 asymmetric pads (DS-CNN stem)', x: [2, 1, 49, 10], w: [8, 1, 10, 4], p: conv(2, [4, 1, 5, 1]) },
  { name: 'depthwise 3×3 stride 1', x: [2, 5, 7, 6], w: [5, 1, 3, 3], p: conv(1, [1], 5) },
  { name: 'depthwise 3×3 stride 2', x: [2, 5, 7, 6], w: [5, 1, 3, 3], p: conv(2, [1], 5) },
  { name: 'depthwise 3×3 dilation 2 pads [2,1,2,1]', x: [2, 4, 8, 7], w: [4, 1, 3, 3], p: conv(1, [2, 1, 2, 1], 4, 2) },
  { name: 'depthwise, channel multiplier 2', x: [2, 3, 6, 6], w: [6, 1, 3, 3], p: conv(1, [1], 3) },
  { name: 'grouped (2 groups)', x: [2, 4, 6, 6], w: [6, 2, 3, 3], p: conv(1, [1], 2) },
  { name: 'dilation 2', x: [2, 4, 9, 9], w: [6, 4, 3, 3], p: conv(1, [2], 1, 2) },
  { name: 'dilation 2 stride 2 asymmetric pads', x: [2, 4, 9, 9], w: [6, 4, 3, 3], p: conv(2, [1, 2, 2, 1], 1, 2) },
  { name: 'gemm', x: [5, 7], w: [3, 7] },
  { name: 'gemm (classifier 64→10)', x: [4, 64], w: [10, 64] },
];

export function randomTensor(shape: readonly number[], seed: number): FloatTensor {
  const r = mulberry32(seed);
  return { shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => r() * 2 - 1) };
}

/** Worst error / bound for y, dx, dw and db. */
export async function boundRatios(test: TensorBackend, reference: TensorBackend, c: OpCase, seed = 1): Promise<Record<'y' | 'dx' | 'dw' | 'db', number>> {
  const x = randomTensor(c.x, seed);
  const w = randomTensor(c.w, seed + 1);
  const b = randomTensor([c.w[0]], seed + 2).data;
  const forward = (be: TensorBackend, xi: FloatTensor, wi: FloatTensor, bi: Float32Array) => (c.p ? be.conv2d(xi, wi, bi, c.p) : be.gemm(xi, wi, bi));
  const backward = (be: TensorBackend, xi: FloatTensor, wi: FloatTensor, dyi: FloatTensor) => (c.p ? be.conv2dBackward(xi, wi, dyi, c.p, true) : be.gemmBackward(xi, wi, dyi, true));
  const y = await forward(test, x, w, b);
  const yRef = await forward(reference, x, w, b);
  const yMag = await forward(reference, absolute(x), absolute(w), absoluteArray(b));
  const dy = randomTensor(yRef.shape, seed + 3);
  const g = await backward(test, x, w, dy);
  const gRef = await backward(reference, x, w, dy);
  const gMag = await backward(reference, absolute(x), absolute(w), absolute(dy));
  // Terms per output: y sums Cin/group·kh·kw products (+ bias); dx sums Cout/group·kh·kw; dw and db sum N·Ho·Wo.
  const perOutput = c.w.slice(1).reduce((a, v) => a * v, 1);
  const perInput = (c.w[0] / (c.p?.group ?? 1)) * c.w.slice(2).reduce((a, v) => a * v, 1);
  const perWeight = dy.data.length / c.w[0];
  return {
    y: boundRatio(y.data, yRef.data, yMag.data, perOutput + 1),
    dx: boundRatio(g.dx!.data, gRef.dx!.data, gMag.dx!.data, perInput),
    dw: boundRatio(g.dw.data, gRef.dw.data, gMag.dw.data, perWeight),
    db: boundRatio(g.db, gRef.db, gMag.db, perWeight),
  };
}

export interface LossCase {
  readonly name: string;
  readonly activation: Activation;
  readonly x: readonly number[];
  readonly w: readonly number[];
  /** Absent for a gemm. */
  readonly p?: ConvParams;
}

export const LOSS_CASES: LossCase[] = [
  { name: 'conv 3×3 stride 2, relu', activation: 'relu', x: [4, 8, 9, 9], w: [16, 8, 3, 3], p: conv(2, [1]) },
  { name: 'depthwise 3×3, relu6', activation: 'relu6', x: [4, 8, 7, 7], w: [8, 1, 3, 3], p: conv(1, [1], 8) },
  { name: 'gemm 64→10, no activation', activation: 'none', x: [8, 64], w: [10, 64] },
];

const activate = (t: FloatTensor, a: Activation): FloatTensor => (a === 'relu' ? E.relu(t) : a === 'relu6' ? E.clip(t, 0, 6) : t);

/** A single conv or gemm as a unit program (the form TensorBackend.unitStep compiles). */
function layerProgram(c: LossCase, outShape: readonly number[]): UnitProgram {
  const op = c.p
    ? { kind: 'conv' as const, input: 'x', output: 'y', weight: 0, bias: true, params: c.p, activation: c.activation }
    : { kind: 'gemm' as const, input: 'x', output: 'y', weight: 0, bias: true, activation: c.activation };
  return { input: 'x', output: 'y', ops: [op], shapes: { x: c.x, y: outShape }, weights: [c.w], quantizers: [] };
}

/**
 * A backend's one-call layer step (forward, activation, loss, backward) against the same steps taken one by one
 * (forward and backward on `plain`, the loss element-wise): the relative deviation of the loss and each gradient.
 */
export async function layerStepDeviation(fused: TensorBackend, plain: TensorBackend, c: LossCase): Promise<Record<'loss' | 'dw' | 'dx', number>> {
  const x = randomTensor(c.x, 11);
  const w = randomTensor(c.w, 12);
  const b = randomTensor([c.w[0]], 13).data;
  const pre = c.p ? await plain.conv2d(x, w, b, c.p) : await plain.gemm(x, w, b);
  const target = activate(randomTensor(pre.shape, 14), c.activation);
  const positions = E.positions(pre);
  const got = await fused.unitStep!(layerProgram(c, pre.shape), x, [w.data], [b], { steps: [], masks: [] }, target, positions, true);
  const want = E.reconstructionLoss(activate(pre, c.activation), target);
  const dy = c.activation === 'relu' ? E.reluBackward(pre, want.dy) : c.activation === 'relu6' ? E.clipBackward(pre, want.dy, 0, 6) : want.dy;
  const g = c.p ? await plain.conv2dBackward(x, w, dy, c.p, true) : await plain.gemmBackward(x, w, dy, true);
  return {
    loss: Math.abs(got.loss - want.loss) / want.loss,
    dw: relativeMaxError(got.dws[0], g.dw.data),
    dx: relativeMaxError(got.dx!, g.dx!.data),
  };
}

/** One graph of every kind the onnxruntime backends build (a layer's whole step too), over the op cases and each activation. */
export function everyGraphKind(): OnnxGraphSpec[] {
  const specs: OnnxGraphSpec[] = [];
  for (const c of OP_CASES) {
    let out: number[];
    if (c.p) {
      const g = convGeometry(randomTensor(c.x, 0), randomTensor(c.w, 0), c.p);
      specs.push(convForwardGraph(g, true), convWeightGradientGraph(g), convInputGradientGraph(g));
      out = [g.n, g.cout, g.ho, g.wo];
    } else {
      const [m, k] = c.x;
      const n = c.w[0];
      specs.push(gemmForwardGraph(m, k, n, true), gemmBackwardGraph(m, k, n, true), gemmBackwardGraph(m, k, n, false));
      out = [m, n];
    }
    for (const activation of ['none', 'relu', 'relu6'] as const)
      for (const needInput of [true, false]) specs.push(unitStepGraph(layerProgram({ ...c, activation }, out), out[0], needInput));
  }
  return specs;
}
