// Without a GPU, the proof that the runtime's a100 mode is the kernel's arithmetic: the kernel's own epilogue function
// (kernels/epilogue.cuh, compiled by nvcc for the host) against runtime/requant/a100.ts on random and edge cases, and
// the runner's host reference (the kernels' implicit-GEMM index mapping, conv-geometry.cuh) against
// runtime/kernels/conv2d.ts and gemm.ts on every conv / fully-connected shape of ResNet-8, DS-CNN and MobileNetV2.
import { beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../../src/random.js';
import { INT32_MAX, INT32_MIN, prepareA100 } from '../../../runtime/requant/index.js';
import { buildA100, type A100Build } from '../../../targets/a100/build.js';
import { runEpilogue, runJob, type EpilogueCase } from '../../../targets/a100/runner.js';
import { countMismatches, LAYER_MODELS, modelLayers, randomJob, runtimeA100, type LayerShape } from './layers.js';

let build: A100Build;
beforeAll(async () => {
  build = await buildA100();
});

const INT32_EDGES = [-2147483648, -2147483647, -16777217, -16777216, -1, 0, 1, 16777216, 16777217, 16777219, 2147483520, 2147483647];

/** Random and edge cases: ties at .5, saturation, huge accumulators, tiny and huge scales, relu and full ranges. */
function epilogueCases(count: number): EpilogueCase[] {
  const r = mulberry32(2024);
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const logUniform = (lo: number, hi: number) => Math.fround(Math.exp(Math.log(lo) + r() * (Math.log(hi) - Math.log(lo))));
  const range = () => {
    const zeroPoint = int(-128, 127);
    return r() < 0.5 ? { zeroPoint, min: -128, max: 127 } : { zeroPoint, min: zeroPoint, max: int(zeroPoint, 127) };
  };
  const cases: EpilogueCase[] = [];
  for (let i = 0; i < count; i++) {
    const kind = i % 5;
    if (kind === 0) {
      // exact ties: scale 2^-e, acc an odd multiple of 2^(e-1)
      const e = int(1, 12);
      cases.push({ acc: (2 * int(-300, 300) + 1) * 2 ** (e - 1), inputScale: 2 ** -e, weightScale: 1, outputScale: 1, ...range() });
    } else if (kind === 1) {
      cases.push({ acc: int(-5e5, 5e5), inputScale: logUniform(1e-3, 1), weightScale: logUniform(1e-4, 1e-1), outputScale: logUniform(1e-4, 1), ...range() });
    } else if (kind === 2) {
      cases.push({ acc: Math.min(INT32_MAX, Math.max(INT32_MIN, INT32_EDGES[i % INT32_EDGES.length] + int(-2, 2) * (i % 3))), inputScale: logUniform(1e-12, 1), weightScale: logUniform(1e-12, 1), outputScale: logUniform(1e-6, 10), ...range() });
    } else if (kind === 3) {
      // tiny scales (down to float32 denormals and underflow to 0) and huge ones (the product overflows to ±inf)
      const tiny = r() < 0.5;
      cases.push({ acc: int(INT32_MIN, INT32_MAX), inputScale: tiny ? logUniform(1e-38, 1e-20) : logUniform(1e10, 1e18), weightScale: tiny ? logUniform(1e-10, 1e-3) : logUniform(1e10, 1e18), outputScale: tiny ? logUniform(1, 1e10) : logUniform(1e-3, 1), ...range() });
    } else {
      cases.push({ acc: int(INT32_MIN, INT32_MAX), inputScale: logUniform(1e-6, 1), weightScale: logUniform(1e-6, 1), outputScale: logUniform(1e-3, 1e3), ...range() });
    }
  }
  return cases;
}

describe('a100 epilogue: the kernel function compiled for the host equals runtime/requant/a100.ts', () => {
  it('on 20,000 random and edge cases, byte for byte', async () => {
    const cases = epilogueCases(20000);
    const kernel = await runEpilogue(build, cases);
    const runtime = Int8Array.from(cases, (c) => prepareA100(c).apply(c.acc));
    expect(kernel.length).toBe(cases.length);
    expect(countMismatches(kernel, runtime)).toBe(0);
    // The cases reach what they are meant to: ties resolved to even, both clamp bounds, non-zero outputs.
    const ties = cases.flatMap((c, i) => (i % 5 === 0 && runtime[i] > c.min && runtime[i] < c.max ? [i] : []));
    expect(ties.length).toBeGreaterThan(1000);
    expect(ties.filter((i) => (runtime[i] - cases[i].zeroPoint) % 2 !== 0)).toEqual([]); // every tie went to even
    expect(cases.filter((c, i) => runtime[i] === c.max && c.max < 127).length).toBeGreaterThan(100);
    expect(cases.filter((c, i) => runtime[i] === -128 && c.min === -128).length).toBeGreaterThan(100);
  });
});

describe.each(Object.entries(LAYER_MODELS))('a100 implicit GEMM on the host = the TS runtime (%s)', (name, file) => {
  const layers = modelLayers(file);
  // MobileNetV2's many same-shaped blocks: one job per distinct shape keeps the run short and covers every mapping.
  const distinct = [...new Map(layers.map((l) => [JSON.stringify({ ...l, name: '' }), l])).values()];
  const batch = name === 'mobilenetv2' ? 1 : 3;

  it(`covers its ${layers.length} conv / fully-connected layers`, () => {
    expect(layers.length).toBeGreaterThan(4);
    expect(layers.some((l) => l.kind === 'fc')).toBe(true);
  });

  it.each(distinct.map((l, i) => [l.name, l, i] as [string, LayerShape, number]))('layer %s', async (_, layer, i) => {
    const job = randomJob(layer, batch, 1000 + i);
    const host = await runJob(build, job, 'host');
    const runtime = runtimeA100(job);
    expect(countMismatches(host, runtime)).toBe(0);
    // Outputs spread over the range, so a wrong index or scale could not hide behind all-saturated outputs.
    expect(new Set(runtime).size).toBeGreaterThan(8);
  });
});
