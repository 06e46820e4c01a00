// Pairing an imported graph with the float graph it was converted from: the converter's spellings (AveragePool over
// the plane for GlobalAveragePool, Reshape for Flatten, Add's operands swapped, nodes in another order) still pair;
// two nodes nothing tells apart stay unpaired; the imported QuantizedGraph takes the float names.
import { describe, expect, it } from 'vitest';
import { alignNames, pairGraphs } from '../../src/ir/align-names.js';
import type { QuantizedGraph } from '../../src/ir/quantized-graph.js';
import { floats, graphOf, int64s, node } from '../helpers/graphs.js';

const conv = (k: number) => ({ kernel: [k, k], strides: [1, 1], pads: k === 3 ? [1, 1, 1, 1] : [0, 0, 0, 0], dilations: [1, 1], group: 1 });

const reference = graphOf({ name: 'x', shape: [1, 4, 8, 8] }, [floats('wa', [4, 4, 3, 3]), floats('wb', [4, 4, 1, 1])], [
  node('Conv', ['x', 'wa'], 'ya', conv(3)),
  node('Conv', ['x', 'wb'], 'yb', conv(1)),
  node('Add', ['ya', 'yb'], 's'),
  node('GlobalAveragePool', ['s'], 'p'),
  node('Flatten', ['p'], 'f', { axis: 1 }),
], ['f']);

// The converter's graph: shortcut conv first, Add's operands swapped, its own pool and reshape.
const converted = graphOf({ name: 'in', shape: [1, 4, 8, 8] }, [floats('k1', [4, 4, 1, 1]), floats('k3', [4, 4, 3, 3]), int64s('shape', [1, 4])], [
  node('Conv', ['in', 'k1'], 'short', conv(1)),
  node('Conv', ['in', 'k3'], 'main', conv(3)),
  node('Add', ['short', 'main'], 'sum'),
  node('AveragePool', ['sum'], 'pool', { kernel: [8, 8], strides: [8, 8], pads: [0, 0, 0, 0], ceilMode: 0, countIncludePad: 0 }),
  node('Reshape', ['pool', 'shape'], 'out'),
], ['out']);

describe('pairGraphs', () => {
  it('pairs every node and value of the same network in another spelling', () => {
    const pairs = pairGraphs(reference, converted);
    expect(Object.fromEntries(pairs.nodes)).toEqual({ short: 'yb', main: 'ya', sum: 's', pool: 'p', out: 'f' });
    expect(Object.fromEntries(pairs.values)).toEqual({ in: 'x', out: 'f', short: 'yb', k1: 'wb', main: 'ya', k3: 'wa', sum: 's', pool: 'p' });
  });

  it('leaves two nodes it cannot tell apart unpaired, and what reads them', () => {
    const twins = graphOf({ name: 'x', shape: [1, 4, 8, 8] }, [floats('w1', [4, 4, 1, 1]), floats('w2', [4, 4, 1, 1], 9)], [
      node('Conv', ['x', 'w1'], 'a', conv(1)),
      node('Conv', ['x', 'w2'], 'b', conv(1)),
      node('Sub', ['a', 'b'], 'd'),
      node('Relu', ['d'], 'r'),
    ], ['r']);
    const pairs = pairGraphs(twins, twins);
    expect([...pairs.nodes.keys()]).toEqual([]);
    // The graph's input and output still pair by position.
    expect(Object.fromEntries(pairs.values)).toEqual({ x: 'x', r: 'r' });
  });
});

describe('alignNames', () => {
  it('renames the imported graph, its grids and its weights with the float names', () => {
    const grid = { scale: 0.1, zeroPoint: 0, bits: 8, qmin: -128, qmax: 127 };
    const q: QuantizedGraph = {
      graph: converted,
      activations: new Map(['in', 'short', 'main', 'sum', 'pool', 'out'].map((v) => [v, grid])),
      weights: new Map([['k3', { shape: [4, 4, 3, 3], values: new Int8Array(144), scale: 0.01, zeroPoint: 0, bits: 8, qmin: -127, qmax: 127 }]]),
      biases: new Map(),
      info: { flexqVersion: 'test', method: 'imported', wbits: 8, abits: 8, seed: 0, model: 'converted', calibrationSamples: 0 },
    };
    const aligned = alignNames(q, reference);
    expect(aligned.graph.nodes.map((n) => [n.name, ...n.inputs, ...n.outputs])).toEqual([
      ['yb', 'x', 'wb', 'yb'], ['ya', 'x', 'wa', 'ya'], ['s', 'yb', 'ya', 's'], ['p', 's', 'p'], ['f', 'p', 'shape', 'f'],
    ]);
    expect([...aligned.activations.keys()]).toEqual(['x', 'yb', 'ya', 's', 'p', 'f']);
    expect([...aligned.weights.keys()]).toEqual(['wa']);
    expect(aligned.graph.values.get('wa')!.shape).toEqual([4, 4, 3, 3]);
  });

  it('refuses a float model whose inputs or outputs differ, naming both', () => {
    const other = graphOf({ name: 'x', shape: [1, 4, 8, 8] }, [], [node('Relu', ['x'], 'r')], ['r']);
    const q = { graph: converted, activations: new Map(), weights: new Map(), biases: new Map() } as unknown as QuantizedGraph;
    expect(() => alignNames(q, other)).toThrow(/fixture takes \[1,4,8,8\] and gives \[1,4\], but fixture takes \[1,4,8,8\] and gives \[1,4,8,8\]/);
  });
});
