// Each element-wise backward against central finite differences with a computed rounding bound (finite-difference.ts).
import { describe, expect, it } from 'vitest';
import type { FloatTensor } from '../../src/tensor.js';
import * as E from '../../src/backend/typed-array-ops.js';
import { mulberry32 } from '../../src/random.js';
import { finiteDifferenceRatio } from './finite-difference.js';

const H = 1e-2;

/** Values in [−lo, hi] kept 3h away from the kinks, so a ±h step never crosses one. */
function input(shape: number[], seed: number, kinks: number[] = [], spread = 8): FloatTensor {
  const r = mulberry32(seed);
  const data = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => {
    let v = (r() * 2 - 1) * spread;
    for (const k of kinks) if (Math.abs(v - k) < 3 * H) v = k + (v < k ? -3 * H : 3 * H);
    return v;
  });
  return { shape, data };
}
const gradient = (shape: readonly number[], seed: number) => input([...shape], seed, [], 1).data;

describe('activations: backward = finite differences (error / bound ≤ 1)', () => {
  const x = input([2, 3, 4, 4], 1, [-3, 0, 3, 6]);
  const dy = gradient(x.shape, 2);
  const cases: [string, (t: FloatTensor) => FloatTensor, (t: FloatTensor, d: FloatTensor) => FloatTensor][] = [
    ['relu', E.relu, E.reluBackward],
    ['relu6 (clip 0..6)', (t) => E.clip(t, 0, 6), (t, d) => E.clipBackward(t, d, 0, 6)],
    ['hard-swish', E.hardSwish, E.hardSwishBackward],
    // PaddleOCR's slope 1/6: kinks at ±3.
    ['hard-sigmoid 1/6, 1/2', (t) => E.hardSigmoid(t, 1 / 6, 0.5), (t, d) => E.hardSigmoidBackward(t, d, 1 / 6, 0.5)],
  ];
  it.each(cases)('%s', async (_name, f, backward) => {
    const dx = backward(x, { shape: x.shape, data: dy }).data;
    expect(await finiteDifferenceRatio(f, x, dy, dx, H)).toBeLessThanOrEqual(1);
    // All three regions of each function are exercised.
    expect(new Set(dx.map((v, i) => (v === 0 ? 0 : v === dy[i] ? 1 : 2))).size).toBeGreaterThan(1);
  });

  it('hard-swish forward matches x·relu6(x + 3)/6', () => {
    const y = E.hardSwish(x).data;
    x.data.forEach((v, i) => expect(y[i]).toBeCloseTo((v * Math.min(Math.max(v + 3, 0), 6)) / 6, 5));
  });
});

describe('joins, scaling and pooling: backward = finite differences (error / bound ≤ 1)', () => {
  it('residual add hands dy to both operands', async () => {
    const a = input([2, 3, 3, 3], 3);
    const b = input([2, 3, 3, 3], 4);
    const dy = gradient(a.shape, 5);
    expect(await finiteDifferenceRatio((t) => E.add(t, b), a, dy, dy, H)).toBeLessThanOrEqual(1);
    expect(await finiteDifferenceRatio((t) => E.add(a, t), b, dy, dy, H)).toBeLessThanOrEqual(1);
  });

  it('per-channel multiply', async () => {
    const x = input([2, 3, 2, 2], 6);
    const scale = Float32Array.from([0.5, -2, 3]);
    const dy = gradient(x.shape, 7);
    const dx = E.mulPerChannel({ shape: x.shape, data: dy }, scale).data;
    expect(await finiteDifferenceRatio((t) => E.mulPerChannel(t, scale), x, dy, dx, H)).toBeLessThanOrEqual(1);
  });

  const pools: [string, E.PoolParams][] = [
    ['2×2 stride 2', { kernel: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0] }],
    ['3×3 stride 2 pads 1, padding not counted', { kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }],
    ['3×3 stride 1 pads [0,1,1,0], padding counted', { kernel: [3, 3], strides: [1, 1], pads: [0, 1, 1, 0], countIncludePad: true }],
    ['3×2 stride 2 ceil mode', { kernel: [3, 2], strides: [2, 2], pads: [0, 0, 0, 0], ceilMode: true }],
  ];
  it.each(pools)('average pool %s', async (_name, p) => {
    const x = input([2, 2, 7, 6], 8);
    const y = E.averagePool(x, p);
    const dy = gradient(y.shape, 9);
    const dx = E.averagePoolBackward(x, { shape: y.shape, data: dy }, p).data;
    expect(await finiteDifferenceRatio((t) => E.averagePool(t, p), x, dy, dx, H, { terms: 9 })).toBeLessThanOrEqual(1);
  });

  it('average pool divisors: counted padding divides by the full window', () => {
    const ones = { shape: [1, 1, 3, 3], data: new Float32Array(9).fill(1) };
    const p = { kernel: [3, 3] as [number, number], strides: [1, 1] as [number, number], pads: [1, 1, 1, 1] as [number, number, number, number] };
    expect(E.averagePool(ones, p).data[0]).toBe(1);
    expect(E.averagePool(ones, { ...p, countIncludePad: true }).data[0]).toBeCloseTo(4 / 9, 7);
  });

  it.each(pools)('max pool %s', async (_name, p) => {
    // Distinct values at least 4h apart: a ±h step never changes which input is the maximum.
    const r = mulberry32(10);
    const order = Array.from({ length: 2 * 2 * 7 * 6 }, (_, i) => i).sort(() => r() - 0.5);
    const x = { shape: [2, 2, 7, 6], data: Float32Array.from(order, (k) => k * 4 * H) };
    const { y, argmax } = E.maxPool(x, p);
    const dy = gradient(y.shape, 11);
    const dx = E.maxPoolBackward(x.shape, argmax, { shape: y.shape, data: dy }).data;
    expect(await finiteDifferenceRatio((t) => E.maxPool(t, p).y, x, dy, dx, H)).toBeLessThanOrEqual(1);
  });

  it('global average pool and flatten', async () => {
    const x = input([2, 3, 5, 4], 12);
    const dy = gradient([2, 3, 1, 1], 13);
    const dx = E.globalAveragePoolBackward(x.shape, { shape: [2, 3, 1, 1], data: dy });
    expect(dx.shape).toEqual(x.shape);
    expect(await finiteDifferenceRatio(E.globalAveragePool, x, dy, dx.data, H, { terms: 20 })).toBeLessThanOrEqual(1);
    const flat = E.reshape(E.globalAveragePool(x), [2, 3]);
    expect(flat.shape).toEqual([2, 3]);
    expect(() => E.reshape(x, [7, 3])).toThrow(/cannot become \[7,3\]/);
  });
});

describe('mse loss', () => {
  it('reconstruction loss sums squares over channels and averages over positions; dy = its finite-difference gradient', async () => {
    const y = input([4, 10], 14, [], 2);
    const target = input([4, 10], 15, [], 2);
    const { loss, dy } = E.reconstructionLoss(y, target);
    let expected = 0;
    y.data.forEach((v, i) => (expected += (v - target.data[i]) ** 2 / 4));
    expect(Math.abs(loss - expected)).toBeLessThanOrEqual(1e-12 * expected);
    const lossOf = (t: FloatTensor): FloatTensor => ({ shape: [1], data: Float32Array.of(E.reconstructionLoss(t, target).loss) });
    expect(await finiteDifferenceRatio(lossOf, y, Float32Array.of(1), dy.data, H, { terms: y.data.length })).toBeLessThanOrEqual(1);
    expect(() => E.reconstructionLoss(y, input([4, 9], 1))).toThrow(/reconstructionLoss: operands have shapes \[4,10\] and \[4,9\]/);
  });
});

describe('constant pad (BlazeFace channel padding)', () => {
  it('puts x inside a border of the value; its backward is the adjoint (⟨pad x, dy⟩ = ⟨x, pad*(dy)⟩)', () => {
    const x = input([2, 3, 4, 5], 21);
    const pads = [0, 1, 2, 0, 0, 4, 0, 3];
    const y = E.padConstant(x, pads, 0);
    expect(y.shape).toEqual([2, 8, 6, 8]);
    expect(y.data[((1 * 8 + 1) * 6 + 2) * 8 + 0]).toBe(x.data[((1 * 3 + 0) * 4 + 0) * 5 + 0]);
    expect(y.data[((1 * 8 + 5) * 6 + 0) * 8 + 0]).toBe(0);
    const dy = input([2, 8, 6, 8], 22);
    const dx = E.padConstantBackward(x.shape, dy, pads);
    let left = 0;
    let right = 0;
    y.data.forEach((v, i) => (left += v * dy.data[i]));
    x.data.forEach((v, i) => (right += v * dx.data[i]));
    expect(Math.abs(left - right)).toBeLessThanOrEqual(1e-9 * Math.abs(left));
    expect(E.padConstant(x, pads, -2).data[0]).toBe(-2);
  });
});

describe('squeeze-excite and decoder ops: backward = finite differences', () => {
  it('broadcast multiply [N, C, H, W] · [N, C, 1, 1]: each operand’s gradient, summed over its broadcast dims', async () => {
    const a = input([2, 3, 4, 4], 10);
    const b = input([2, 3, 1, 1], 11);
    const dy = gradient([2, 3, 4, 4], 12);
    const [da, db] = E.mulBackward(a, b, { shape: [2, 3, 4, 4], data: dy });
    expect(await finiteDifferenceRatio((t) => E.mul(t, b), a, dy, da.data, H)).toBeLessThanOrEqual(1);
    // Each gate value is read by 16 products, summed in float32.
    expect(await finiteDifferenceRatio((t) => E.mul(a, t), b, dy, db.data, H, { terms: 16 })).toBeLessThanOrEqual(1);
    // Right-aligned broadcasting of a constant [C, 1, 1] scale.
    expect(E.mul(a, { shape: [3, 1, 1], data: Float32Array.of(1, 2, 3) }).data[16 * 2 + 5]).toBe(Math.fround(a.data[16 * 2 + 5] * 3));
  });

  it('sigmoid: backward from the output, y·(1 − y), within 1e-4 of central differences', () => {
    const x = input([1, 2, 3, 3], 13);
    const y = E.sigmoid(x);
    const dy = gradient(x.shape, 14);
    const dx = E.sigmoidBackward(y, { shape: x.shape, data: dy }).data;
    const h = 1e-3;
    x.data.forEach((v, i) => {
      const numeric = ((1 / (1 + Math.exp(-(v + h))) - 1 / (1 + Math.exp(-(v - h)))) / (2 * h)) * dy[i];
      expect(Math.abs(dx[i] - numeric)).toBeLessThan(1e-4);
    });
  });

  const resizes: [string, E.ResizeMode, E.ResizeCoordinates, number, number][] = [
    ['linear half-pixel ×2 (Keras UpSampling2D bilinear)', 'linear', 'half_pixel', 8, 10],
    ['linear align-corners 3 → 7', 'linear', 'align_corners', 7, 7],
    ['nearest asymmetric ×2', 'nearest', 'asymmetric', 8, 10],
  ];
  it.each(resizes)('resize %s', async (_name, mode, coordinates, oh, ow) => {
    const x = input([1, 2, mode === 'linear' && coordinates === 'align_corners' ? 3 : 4, mode === 'linear' && coordinates === 'align_corners' ? 3 : 5], 15);
    const [rows, cols] = [E.resizeAxis(x.shape[2], oh, mode, coordinates), E.resizeAxis(x.shape[3], ow, mode, coordinates)];
    const y = E.resize2d(x, rows, cols);
    expect(y.shape).toEqual([1, 2, oh, ow]);
    const dy = gradient(y.shape, 16);
    const dx = E.resize2dBackward(x.shape, { shape: y.shape, data: dy }, rows, cols).data;
    expect(await finiteDifferenceRatio((t) => E.resize2d(t, rows, cols), x, dy, dx, H, { terms: 4 })).toBeLessThanOrEqual(1);
  });

  it('resize half-pixel ×2 places outputs at ¼ and ¾ between inputs, edges clamped', () => {
    const x = { shape: [1, 1, 1, 3], data: Float32Array.of(0, 4, 8) };
    const y = E.resize2d(x, E.resizeAxis(1, 1, 'linear', 'half_pixel'), E.resizeAxis(3, 6, 'linear', 'half_pixel'));
    expect([...y.data]).toEqual([0, 1, 3, 5, 7, 8]);
  });
});
