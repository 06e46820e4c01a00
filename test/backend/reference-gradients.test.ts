// The tfjs-cpu reference's autodiff gradients against central finite differences of its own forward, on tiny
// shapes. The loss Σ dy·f is linear in each operand, so the differences carry rounding error only, and both
// bounds are computed (finite-difference.ts, rounding-bound.ts).
import { beforeAll, describe, expect, it } from 'vitest';
import type { Gradients, TensorBackend } from '../../src/backend/backend.js';
import type { FloatTensor } from '../../src/tensor.js';
import { createTfjsBackend } from '../../src/backend/tfjs-reference.js';
import { conv, randomTensor, type OpCase } from './compare.js';
import { finiteDifferenceRatio } from './finite-difference.js';
import { absolute, absoluteArray } from './rounding-bound.js';

const U = 2 ** -24;
const H = 0.5;

const CASES: OpCase[] = [
  { name: '3×3 stride 2 pads [0,0,1,1]', x: [1, 2, 5, 5], w: [3, 2, 3, 3], p: conv(2, [0, 0, 1, 1]) },
  { name: 'depthwise 3×3 stride 2 pad 1', x: [1, 3, 5, 5], w: [3, 1, 3, 3], p: conv(2, [1], 3) },
  { name: '2 groups, dilation 2', x: [1, 4, 6, 6], w: [4, 2, 2, 2], p: conv(1, [1], 2, 2) },
  { name: 'gemm', x: [3, 4], w: [2, 4] },
];

let reference: TensorBackend;
beforeAll(async () => {
  reference = await createTfjsBackend('cpu');
});

describe('tfjs-cpu autodiff = finite differences (error / bound ≤ 1)', () => {
  it.each(CASES)('$name', async (c) => {
    const x = randomTensor(c.x, 21);
    const w = randomTensor(c.w, 22);
    const b = randomTensor([c.w[0]], 23);
    const forward = (xi: FloatTensor, wi: FloatTensor, bi: Float32Array) => (c.p ? reference.conv2d(xi, wi, bi, c.p) : reference.gemm(xi, wi, bi));
    const backward = (xi: FloatTensor, wi: FloatTensor, dyi: FloatTensor): Promise<Gradients> =>
      c.p ? reference.conv2dBackward(xi, wi, dyi, c.p, true) : reference.gemmBackward(xi, wi, dyi, true);
    const dy = randomTensor((await forward(x, w, b.data)).shape, 24);
    const g = await backward(x, w, dy);
    const mag = await backward(absolute(x), absolute(w), absolute(dy));
    const perOutput = c.w.slice(1).reduce((a, v) => a * v, 1) + 1;
    const perInput = (c.w[0] / (c.p?.group ?? 1)) * c.w.slice(2).reduce((a, v) => a * v, 1);
    const perWeight = dy.data.length / c.w[0];
    const gamma = (n: number) => (n * U) / (1 - n * U);
    const bound = (m: Float32Array, n: number) => m.map((v) => 2 * gamma(n) * v);
    const absB = absoluteArray(b.data);

    const byX = await finiteDifferenceRatio((t) => forward(t, w, b.data), x, dy.data, g.dx!.data, H, {
      terms: perOutput,
      magnitude: (t) => forward(absolute(t), absolute(w), absB),
      analyticError: bound(mag.dx!.data, perInput),
    });
    const byW = await finiteDifferenceRatio((t) => forward(x, t, b.data), w, dy.data, g.dw.data, H, {
      terms: perOutput,
      magnitude: (t) => forward(absolute(x), absolute(t), absB),
      analyticError: bound(mag.dw.data, perWeight),
    });
    const byB = await finiteDifferenceRatio((t) => forward(x, w, t.data), b, dy.data, g.db, H, {
      terms: perOutput,
      magnitude: (t) => forward(absolute(x), absolute(w), absoluteArray(t.data)),
      analyticError: bound(mag.db, perWeight),
    });
    expect(byX).toBeLessThanOrEqual(1);
    expect(byW).toBeLessThanOrEqual(1);
    expect(byB).toBeLessThanOrEqual(1);
  });
});
