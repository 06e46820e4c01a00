// Every ort-cpu op and gradient, and tfjs-wasm's forward-kernel gradients, against TensorFlow.js autodiff on the
// cpu engine; each error must stay inside its computed float32 rounding bound (rounding-bound.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TensorBackend } from '../../src/backend/backend.js';
import { createOrtBackend } from '../../src/backend/ort.js';
import { ASSEMBLED_IM2COL_LIMIT } from '../../src/backend/ort-graphs.js';
import { createTfjsBackend } from '../../src/backend/tfjs-reference.js';
import { FlexqError } from '../../src/errors.js';
import { boundRatios, conv, layerStepDeviation, LOSS_CASES, OP_CASES as CASES, randomTensor, type OpCase } from './compare.js';


let reference: TensorBackend;
let ortCpu: TensorBackend;
let tfjsWasm: TensorBackend;
beforeAll(async () => {
  [reference, ortCpu, tfjsWasm] = await Promise.all([createTfjsBackend('cpu'), createOrtBackend('cpu'), createTfjsBackend('wasm')]);
});
afterAll(async () => {
  await ortCpu.dispose();
});

describe('ort-cpu against tfjs-cpu autodiff (error / rounding bound ≤ 1)', () => {
  it.each(CASES)('$name', async (c) => {
    const r = await boundRatios(ortCpu, reference, c);
    expect(r.y).toBeLessThanOrEqual(1);
    expect(r.dx).toBeLessThanOrEqual(1);
    expect(r.dw).toBeLessThanOrEqual(1);
    expect(r.db).toBeLessThanOrEqual(1);
  });
});

describe('tfjs-wasm forward-kernel gradients against tfjs-cpu autodiff (error / rounding bound ≤ 1)', () => {
  it.each(CASES)('$name', async (c) => {
    const r = await boundRatios(tfjsWasm, reference, c);
    expect(Math.max(r.y, r.dx, r.dw, r.db)).toBeLessThanOrEqual(1);
  });
});

describe('ort-cpu weight gradient with one GEMM per tap (im2col above the assembled limit)', () => {
  const c: OpCase = { name: '16→8 3×3 at 32×32, batch 16', x: [16, 16, 32, 32], w: [8, 16, 3, 3], p: conv(1, [1]) };
  it('agrees with tfjs-wasm within the rounding bound', async () => {
    expect(c.x[0] * c.x[1] * 9 * c.x[2] * c.x[3]).toBeGreaterThan(ASSEMBLED_IM2COL_LIMIT);
    const r = await boundRatios(ortCpu, tfjsWasm, c);
    expect(Math.max(r.y, r.dx, r.dw, r.db)).toBeLessThanOrEqual(1);
  });
});

describe('ort-cpu one-call layer step (forward, activation, loss, backward) against the steps one by one', () => {
  it.each(LOSS_CASES)('$name', async (c) => {
    const d = await layerStepDeviation(ortCpu, reference, c);
    expect(Math.max(d.loss, d.dw, d.dx)).toBeLessThan(1e-5);
  });
});

describe('ort-cpu contract', () => {
  it('without needInput gives the same dw and db and no dx', async () => {
    const c = CASES[1];
    const x = randomTensor(c.x, 7);
    const w = randomTensor(c.w, 8);
    const dy = randomTensor((await ortCpu.conv2d(x, w, undefined, c.p!)).shape, 9);
    const both = await ortCpu.conv2dBackward(x, w, dy, c.p!, true);
    const weightOnly = await ortCpu.conv2dBackward(x, w, dy, c.p!, false);
    expect(weightOnly.dx).toBeUndefined();
    expect(weightOnly.dw.shape).toEqual(c.w);
    expect(both.dx!.shape).toEqual(c.x);
    expect(weightOnly.dw.data).toEqual(both.dw.data);
    expect(weightOnly.db).toEqual(both.db);
  });

  it('names the operands when shapes do not fit', async () => {
    const x = randomTensor([1, 4, 5, 5], 1);
    const w = randomTensor([6, 3, 3, 3], 2);
    const err = await ortCpu.conv2d(x, w, undefined, CASES[0].p!).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FlexqError);
    expect((err as FlexqError).code).toBe('SHAPE');
    expect((err as FlexqError).message).toMatch(/x \[1,4,5,5\], w \[6,3,3,3\].*input channels 4/);
    const gemmErr = await ortCpu.gemm(randomTensor([2, 5], 1), randomTensor([3, 4], 2), undefined).catch((e: unknown) => e);
    expect((gemmErr as FlexqError).code).toBe('SHAPE');
  });
});
