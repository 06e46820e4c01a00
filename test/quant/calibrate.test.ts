// Activation grids from calibration: a value read only by saturating activations gets no wider a grid than the
// activation distinguishes, and values with other readers keep their observed range.
import { describe, expect, it } from 'vitest';
import { OBSERVERS } from '../../calibration/observers.js';
import { createFloatExecutor } from '../../src/exec/float-executor.js';
import type { ActivationQuant } from '../../src/ir/quantized-graph.js';
import { calibrateActivations } from '../../src/quant/calibrate.js';
import { floats, graphOf, node, randomFloats } from '../helpers/graphs.js';

const conv = { kernel: [1, 1], strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], group: 1 };
const realRange = (q: ActivationQuant): [number, number] => [q.scale * (q.qmin - q.zeroPoint), q.scale * (q.qmax - q.zeroPoint)];

describe('calibrateActivations', () => {
  it('cuts a Sigmoid input to ±ln 1024, a HardSwish input below at −3, and leaves a value with a non-saturating reader alone', async () => {
    const graph = graphOf({ name: 'x', shape: ['N', 2, 4, 4] }, [floats('w', [4, 2, 1, 1], 5), floats('b', [4], 6)], [
      node('Conv', ['x', 'w', 'b'], 'logit', conv),
      node('Sigmoid', ['logit'], 'p'),
      node('Conv', ['x', 'w', 'b'], 'pre', conv),
      node('HardSwish', ['pre'], 'h'),
      node('Conv', ['x', 'w', 'b'], 'shared', conv),
      node('HardSwish', ['shared'], 'h2'),
      node('Add', ['shared', 'h2'], 'sum'),
      node('Add', ['p', 'h'], 'y0'),
      node('Add', ['y0', 'sum'], 'y'),
    ], ['y']);
    // Inputs in [−100, 100): every conv output spans far more than the activations distinguish.
    const calibration = { size: 8, async *batches() { yield { data: randomFloats(8 * 32, 9).map((v) => 100 * v), count: 8 }; } };
    const executor = await createFloatExecutor(graph);
    const grids = await calibrateActivations(graph, executor, calibration, OBSERVERS.minmax, 8, 8).finally(() => executor.dispose());
    const shared = realRange(grids.get('shared')!);
    expect(shared[0]).toBeLessThan(-20);
    const [lo, hi] = realRange(grids.get('logit')!);
    const bound = Math.log(1024);
    expect(hi - lo).toBeCloseTo(2 * bound, 1);
    expect(Math.abs(lo + bound)).toBeLessThanOrEqual(grids.get('logit')!.scale);
    const pre = realRange(grids.get('pre')!);
    expect(Math.abs(pre[0] + 3)).toBeLessThanOrEqual(grids.get('pre')!.scale);
    expect(pre[1]).toBeCloseTo(shared[1], 0);
  });
});
