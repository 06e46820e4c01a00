// The ort-cpu backend's WebAssembly depthwise weight gradient against TensorFlow.js autodiff on the cpu engine: the
// error must stay inside the computed float32 rounding bound, at strides, dilations and pads the kernel handles
// (its SIMD path too: rows of 4 and more), with two convs' operands in the kernel's memory at once.
import { beforeAll, describe, expect, it } from 'vitest';
import type { TensorBackend } from '../../src/backend/backend.js';
import { convGeometry } from '../../src/backend/conv-geometry.js';
import { DepthwiseWeightGradient } from '../../src/backend/depthwise-weight-gradient.js';
import { createTfjsBackend } from '../../src/backend/tfjs-reference.js';
import { conv, randomTensor, type OpCase } from './compare.js';
import { absolute, boundRatio } from './rounding-bound.js';

const CASES: OpCase[] = [
  { name: '3×3 stride 1 pad 1, rows of 13 (SIMD and tail)', x: [3, 4, 9, 13], w: [4, 1, 3, 3], p: conv(1, [1], 4) },
  { name: '3×3 stride 2 pad 1, odd width', x: [2, 5, 7, 6], w: [5, 1, 3, 3], p: conv(2, [1], 5) },
  { name: '3×3 dilation 2 pads [2,1,2,1]', x: [2, 4, 8, 7], w: [4, 1, 3, 3], p: conv(1, [2, 1, 2, 1], 4, 2) },
  { name: '5×3 stride [1] pads [0,1,2,1], DS-CNN width', x: [2, 6, 25, 5], w: [6, 1, 5, 3], p: conv(1, [0, 1, 2, 1], 6) },
];

let reference: TensorBackend;
beforeAll(async () => {
  reference = await createTfjsBackend('cpu');
});

describe('WebAssembly depthwise weight gradient against tfjs-cpu autodiff (error / rounding bound ≤ 1)', () => {
  const kernel = new DepthwiseWeightGradient();
  it.each(CASES)('$name', async (c) => {
    const x = randomTensor(c.x, 1);
    const w = randomTensor(c.w, 2);
    const g = convGeometry(x, w, c.p!);
    const dy = randomTensor([g.n, g.cout, g.ho, g.wo], 3);
    const want = await reference.conv2dBackward(x, w, dy, c.p!, false);
    const magnitude = await reference.conv2dBackward(absolute(x), absolute(w), absolute(dy), c.p!, false);
    // Two convs at once (a unit with two depthwise layers): the second's operands must not disturb the first's.
    const [first, second] = kernel.operands([g, g]);
    first.x.set(x.data);
    first.dy.set(dy.data);
    second.x.fill(7);
    second.dy.fill(-3);
    const got = kernel.compute(0);
    expect(got.length).toBe(want.dw.data.length);
    expect(boundRatio(got, want.dw.data, magnitude.dw.data, g.n * g.ho * g.wo)).toBeLessThanOrEqual(1);
  });
});
