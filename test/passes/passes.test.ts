import { describe, expect, it } from 'vitest';
import type { Graph } from '../../src/ir/graph.js';
import { toNumbers } from '../../src/ir/dtype.js';
import { verifyGraph } from '../../src/ir/verify.js';
import { eliminateIdentities } from '../../src/passes/eliminate-identities.js';
import { foldBatchNorm } from '../../src/passes/fold-batch-norm.js';
import { foldBiasAdd } from '../../src/passes/fold-bias-add.js';
import { foldConstants } from '../../src/passes/fold-constants.js';
import { freeBatchDimension } from '../../src/passes/free-batch-dimension.js';
import { fuseActivations } from '../../src/passes/fuse-activations.js';
import { globalizeAveragePool } from '../../src/passes/globalize-average-pool.js';
import { floats, graphOf, int64s, node, randomFloats, runOn, scalar } from '../helpers/graphs.js';
import { relativeMaxError } from '../helpers/shared.js';

const conv = { kernel: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], group: 1 };
const ops = (g: Graph) => g.nodes.map((n) => n.op);

/** A pass must keep the graph sound and compute the same function. */
async function expectSameFunction(before: Graph, after: Graph, shape: number[]): Promise<void> {
  expect(verifyGraph(after)).toEqual([]);
  expect(relativeMaxError(await runOn(after, shape), await runOn(before, shape))).toBeLessThan(1e-5);
}

const bnParams = (prefix: string, c: number) => [
  floats(`${prefix}.gamma`, [c], 11),
  floats(`${prefix}.beta`, [c], 12),
  floats(`${prefix}.mean`, [c], 13),
  { name: `${prefix}.var`, dtype: 'float32' as const, shape: [c], data: randomFloats(c, 14).map((v) => v + 1.5) },
];

describe('foldConstants', () => {
  it('turns a Shape/Cast/Slice/Concat chain over a symbolic batch into Reshape(x, [0, -1])', async () => {
    const g = graphOf({ name: 'x', shape: ['N', 4, 2, 2] }, [int64s('starts', [0]), int64s('ends', [1]), int64s('minus1', [-1])], [
      node('Shape', ['x'], 's'),
      node('Cast', ['s'], 'si', { to: 'int32' }),
      node('Slice', ['si', 'starts', 'ends'], 'n'),
      node('Cast', ['n'], 'n64', { to: 'int64' }),
      node('Concat', ['n64', 'minus1'], 'target', { axis: 0 }),
      node('Reshape', ['x', 'target'], 'y'),
    ], ['y']);
    const folded = foldConstants(g);
    expect(ops(folded)).toEqual(['Reshape']);
    expect(toNumbers(folded.values.get(folded.nodes[0].inputs[1])!.data!)).toEqual([0, -1]);
    expect(folded.values.get('y')!.shape).toEqual(['N', 16]);
    expect(verifyGraph(folded)).toEqual([]);
    // A flatten keeps the values: the output equals the input, in any batch size.
    expect(await runOn(folded, [3, 4, 2, 2])).toEqual(randomFloats(48, 3).map((x) => 4 * x));
  });

  it('evaluates nodes whose inputs are all constants', () => {
    const g = graphOf({ name: 'x', shape: [1, 6] }, [floats('a', [2, 3]), int64s('shape', [1, 6])], [
      node('Transpose', ['a'], 'at', { perm: [1, 0] }),
      node('Reshape', ['at', 'shape'], 'flat'),
      node('Add', ['x', 'flat'], 'y'),
    ], ['y']);
    const folded = foldConstants(g);
    expect(ops(folded)).toEqual(['Add']);
    const a = g.values.get('a')!.data as Float32Array;
    expect(Array.from(folded.values.get('flat')!.data as Float32Array)).toEqual([a[0], a[3], a[1], a[4], a[2], a[5]]);
  });
});

describe('foldBatchNorm', () => {
  it('folds BN into the conv before it: BN(conv(x,w)+b) → conv(x, w·γ/σ) + (b−μ)·γ/σ + β', async () => {
    const g = graphOf({ name: 'x', shape: ['N', 3, 6, 6] }, [floats('w', [4, 3, 3, 3]), ...bnParams('bn', 4)], [
      node('Conv', ['x', 'w'], 'c', conv),
      node('BatchNormalization', ['c', 'bn.gamma', 'bn.beta', 'bn.mean', 'bn.var'], 'y', { epsilon: 1e-5 }),
    ], ['y']);
    const folded = foldBatchNorm(g);
    expect(ops(folded)).toEqual(['Conv']);
    expect(folded.nodes[0].inputs).toHaveLength(3);
    await expectSameFunction(g, folded, [2, 3, 6, 6]);
  });

  it('folds BN after a Gemm per output feature', async () => {
    const g = graphOf({ name: 'x', shape: ['N', 5] }, [floats('w', [4, 5]), floats('b', [4]), ...bnParams('bn', 4)], [
      node('Gemm', ['x', 'w', 'b'], 'm', { alpha: 1, beta: 1, transA: 0, transB: 1 }),
      node('BatchNormalization', ['m', 'bn.gamma', 'bn.beta', 'bn.mean', 'bn.var'], 'y', { epsilon: 1e-5 }),
    ], ['y']);
    const folded = foldBatchNorm(g);
    expect(ops(folded)).toEqual(['Gemm']);
    await expectSameFunction(g, folded, [3, 5]);
  });

  it('turns a standalone BN into a per-channel scale and shift', async () => {
    const g = graphOf({ name: 'x', shape: ['N', 4, 3, 3] }, bnParams('bn', 4), [
      node('Relu', ['x'], 'r'),
      node('BatchNormalization', ['r', 'bn.gamma', 'bn.beta', 'bn.mean', 'bn.var'], 'y', { epsilon: 1e-3 }),
    ], ['y']);
    const folded = foldBatchNorm(g);
    expect(ops(folded)).toEqual(['Relu', 'Mul', 'Add']);
    await expectSameFunction(g, folded, [2, 4, 3, 3]);
  });

  it('leaves a conv whose output has other readers alone', () => {
    const g = graphOf({ name: 'x', shape: ['N', 3, 6, 6] }, [floats('w', [4, 3, 3, 3]), ...bnParams('bn', 4)], [
      node('Conv', ['x', 'w'], 'c', conv),
      node('BatchNormalization', ['c', 'bn.gamma', 'bn.beta', 'bn.mean', 'bn.var'], 'bnout', { epsilon: 1e-5 }),
      node('Add', ['c', 'bnout'], 'y'),
    ], ['y']);
    expect(ops(foldBatchNorm(g))).toEqual(['Conv', 'Mul', 'Add', 'Add']);
  });
});

describe('foldBiasAdd', () => {
  it('moves a per-channel add into the conv bias and turns matmul + add into a gemm', async () => {
    const g = graphOf({ name: 'x', shape: ['N', 3, 4, 4] }, [floats('w', [2, 3, 3, 3]), floats('c', [2, 1, 1], 5), int64s('flat', [0, 32]), floats('m', [32, 5], 6), floats('d', [5], 8)], [
      node('Conv', ['x', 'w'], 'conv', conv),
      node('Add', ['c', 'conv'], 'biased'),
      node('Relu', ['biased'], 'r'),
      node('Reshape', ['r', 'flat'], 'f'),
      node('MatMul', ['f', 'm'], 'mm'),
      node('Add', ['mm', 'd'], 'y'),
    ], ['y']);
    const folded = foldBiasAdd(g);
    expect(ops(folded)).toEqual(['Conv', 'Relu', 'Reshape', 'Gemm']);
    await expectSameFunction(g, folded, [2, 3, 4, 4]);
  });

  it('keeps an add whose operand is not a per-channel constant', () => {
    const g = graphOf({ name: 'x', shape: ['N', 3, 4, 4] }, [floats('w', [2, 3, 3, 3]), floats('c', [2, 4, 4], 5)], [
      node('Conv', ['x', 'w'], 'conv', conv),
      node('Add', ['conv', 'c'], 'y'),
    ], ['y']);
    expect(ops(foldBiasAdd(g))).toEqual(['Conv', 'Add']);
  });
});

describe('fuseActivations', () => {
  it('fuses relu and clip(0,6) into the conv/gemm before them, but not clip(0,5)', async () => {
    const g = graphOf({ name: 'x', shape: ['N', 3, 6, 6] }, [floats('w1', [4, 3, 3, 3]), floats('w2', [4, 4, 3, 3]), floats('w3', [4, 4, 3, 3])], [
      node('Conv', ['x', 'w1'], 'c1', conv),
      node('Relu', ['c1'], 'r1'),
      node('Conv', ['r1', 'w2'], 'c2', conv),
      node('Clip', ['c2'], 'r2', { min: 0, max: 6 }),
      node('Conv', ['r2', 'w3'], 'c3', conv),
      node('Clip', ['c3'], 'y', { min: 0, max: 5 }),
    ], ['y']);
    const fused = fuseActivations(g);
    expect(fused.nodes.map((n) => `${n.op}:${n.attrs.activation ?? ''}`)).toEqual(['Conv:relu', 'Conv:relu6', 'Conv:', 'Clip:']);
    await expectSameFunction(g, fused, [2, 3, 6, 6]);
  });

  it('recognises x·clip(x+3,0,6)/6 and x·hardsigmoid(x) as HardSwish', async () => {
    const g = graphOf({ name: 'x', shape: ['N', 4] }, [scalar('three', 3), scalar('six', 6)], [
      node('Add', ['x', 'three'], 'a'),
      node('Clip', ['a'], 'c', { min: 0, max: 6 }),
      node('Mul', ['x', 'c'], 'm'),
      node('Div', ['m', 'six'], 'h1'),
      node('HardSigmoid', ['h1'], 'g', { alpha: 1 / 6, beta: 0.5 }),
      node('Mul', ['g', 'h1'], 'y'),
    ], ['y']);
    const fused = fuseActivations(g);
    expect(ops(fused)).toEqual(['HardSwish', 'HardSwish']);
    await expectSameFunction(g, fused, [5, 4]);
  });
});

describe('eliminateIdentities', () => {
  it('removes Identity and no-op Reshape, keeping graph output names', async () => {
    const g = graphOf({ name: 'x', shape: ['N', 4] }, [int64s('same', [0, 4])], [
      node('Relu', ['x'], 'r'),
      node('Identity', ['r'], 'i'),
      node('Reshape', ['i', 'same'], 'j'),
      node('Sigmoid', ['j'], 's'),
      node('Identity', ['s'], 'y'),
    ], ['y']);
    const out = eliminateIdentities(g);
    expect(ops(out)).toEqual(['Relu', 'Sigmoid']);
    expect(out.outputs).toEqual(['y']);
    await expectSameFunction(g, out, [2, 4]);
  });
});

describe('freeBatchDimension', () => {
  it('makes the batch symbolic and rewrites a reshape that spelled out batch 1', async () => {
    const g = graphOf({ name: 'x', shape: [1, 2, 2, 2] }, [int64s('shape', [1, 8])], [node('Reshape', ['x', 'shape'], 'y')], ['y']);
    const freed = freeBatchDimension(g);
    expect(freed.values.get('x')!.shape).toEqual(['N', 2, 2, 2]);
    expect(freed.values.get('y')!.shape).toEqual(['N', 8]);
    expect(verifyGraph(freed)).toEqual([]);
    expect((await runOn(freed, [3, 2, 2, 2])).length).toBe(24);
  });
});

describe('globalizeAveragePool', () => {
  const pool = (kernel: number[], pads = [0, 0, 0, 0]) => node('AveragePool', ['x'], 'y', { kernel, strides: [1, 1], pads, ceilMode: 0, countIncludePad: 0 });
  it('turns an AveragePool whose window is the whole input into GlobalAveragePool, same values', async () => {
    const g = graphOf({ name: 'x', shape: ['N', 3, 4, 5] }, [], [pool([4, 5])], ['y']);
    const after = globalizeAveragePool(g);
    expect(ops(after)).toEqual(['GlobalAveragePool']);
    expect(after.values.get('y')!.shape).toEqual(['N', 3, 1, 1]);
    await expectSameFunction(g, after, [2, 3, 4, 5]);
  });

  it('keeps smaller windows and padded ones', () => {
    for (const g of [graphOf({ name: 'x', shape: ['N', 3, 4, 4] }, [], [pool([2, 2])], ['y']), graphOf({ name: 'x', shape: ['N', 3, 4, 4] }, [], [pool([4, 4], [1, 1, 1, 1])], ['y'])])
      expect(globalizeAveragePool(g)).toBe(g);
  });
});
