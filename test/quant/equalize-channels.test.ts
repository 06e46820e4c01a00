// Which chains channel equalization may rescale (the float function must not change), and bias correction's
// contract: with the calibration means, the rounded layer's output means equal the float layer's.
import { describe, expect, it } from 'vitest';
import { equalizationRegions } from '../../src/quant/equalize-channels.js';
import { correctBiases } from '../../src/quant/bias-correction.js';
import { rtnWeights } from '../../src/quant/rtn.js';
import { dequantizeWeight } from '../../src/ir/quantized-graph.js';
import { floats, graphOf, node } from '../helpers/graphs.js';

const conv = (x: string, w: string, b: string, out: string, extra = {}) => node('Conv', [x, w, b], out, { kernel: [1, 1], strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], group: 1, ...extra });
const depthwise = (x: string, out: string) => node('Conv', [x, 'wd', 'bd'], out, { kernel: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], group: 4, activation: 'relu' });
const constants = [floats('w1', [4, 3, 1, 1], 1), floats('b1', [4], 2), floats('wd', [4, 1, 3, 3], 3), floats('bd', [4], 4), floats('w2', [2, 4, 1, 1], 5), floats('b2', [2], 6)];
const input = { name: 'x', shape: [1, 3, 8, 8] };

describe('channel equalization regions', () => {
  it('conv(relu) → depthwise(relu) → conv: the first conv divides, the depthwise carries, the last conv multiplies back', () => {
    const g = graphOf(input, constants, [conv('x', 'w1', 'b1', 'a', { activation: 'relu' }), depthwise('a', 'd'), conv('d', 'w2', 'b2', 'y')], ['y']);
    const regions = equalizationRegions(g).map((r) => ({ sources: r.sources.map((n) => n.name), passes: r.passes.map((n) => n.name), readers: r.readers.map((n) => n.name) }));
    expect(regions).toEqual([{ sources: ['a'], passes: ['d'], readers: ['y'] }]);
  });

  it('a HardSwish reader or a graph output stops a region: x/s through them is not (f(x))/s', () => {
    const hardSwish = graphOf(input, constants, [conv('x', 'w1', 'b1', 'a'), node('HardSwish', ['a'], 'h'), conv('h', 'w2', 'b2', 'y')], ['y']);
    expect(equalizationRegions(hardSwish).map((r) => r.sources[0].name)).toEqual([]);
    const output = graphOf(input, constants, [conv('x', 'w1', 'b1', 'a', { activation: 'relu' }), depthwise('a', 'y')], ['y']);
    expect(equalizationRegions(output)).toEqual([]);
  });
});

describe('bias correction', () => {
  it('moves each bias by Σ (W − Ŵ)·E[x], so Σ Ŵ·E[x] + b′ = Σ W·E[x] + b per output channel', () => {
    const g = graphOf(input, constants, [conv('x', 'w1', 'b1', 'y')], ['y']);
    const weights = rtnWeights(g, { wbits: 4, edgeBits: 4 });
    const mean = Float64Array.of(0.5, 2, -1);
    const corrected = correctBiases(g, weights, new Map([['x', mean]])).values.get('b1')!.data as Float32Array;
    const w = g.values.get('w1')!.data as Float32Array;
    const wq = dequantizeWeight(weights.get('w1')!);
    const b = g.values.get('b1')!.data as Float32Array;
    let moved = 0;
    for (let m = 0; m < 4; m++) {
      const dot = (v: Float32Array) => [0, 1, 2].reduce((s, c) => s + v[m * 3 + c] * mean[c], 0);
      expect(dot(wq) + corrected[m]).toBeCloseTo(dot(w) + b[m], 5);
      moved += Math.abs(corrected[m] - b[m]);
    }
    expect(moved).toBeGreaterThan(1e-3);
  });
});
