// arenaBuffers: which tensors share an arena buffer. An in-place step takes the buffer of an input that dies with it,
// never the model's input (the caller's buffer) nor an input a later step still reads; reshape aliases follow their
// source; without in-place every step output has its own buffer.

import { describe, expect, it } from 'vitest';
import { arenaBuffers } from '../../../targets/cortex-m/arena-buffers.js';
import type { CStep, LoweredModel } from '../../../targets/cortex-m/lower.js';
import { planArena } from '../../../targets/cortex-m/plan-arena.js';

const step = (inputs: string[], output: string, outputBytes: number, inPlaceInputs: number[] = [], scratchBytes = 0): CStep =>
  ({ node: { name: output, op: 'Test', inputs, outputs: [output], attrs: {} }, arrays: [], inputs, output, outputBytes, scratchBytes, inPlaceInputs, sources: [], call: () => '' }) as unknown as CStep;

function model(steps: CStep[], aliases: [string, string][] = []): LoweredModel {
  const grid = { scale: 1, zeroPoint: 0, bits: 8, qmin: -128, qmax: 127 };
  return { steps, aliases: new Map(aliases), input: { name: 'x', shape: [100], quant: grid }, outputs: [{ name: steps.at(-1)!.output, shape: [100], quant: grid }] } as unknown as LoweredModel;
}

describe('arenaBuffers', () => {
  // x → conv → a → relu (in place) → b → add(b, a') where a' = reshape of a → c
  const chain = model([step(['x'], 'a', 100), step(['a'], 'b', 100, [0]), step(['b', 'x'], 'c', 100, [0, 1], 16)]);

  it('lets a chain of in-place steps share one buffer, and never the model input\'s', () => {
    const { storage, buffers } = arenaBuffers(chain, { inPlace: true });
    expect([storage.get('a'), storage.get('b'), storage.get('c')]).toEqual(['a', 'a', 'a']);
    expect(storage.has('x')).toBe(false);
    expect(buffers.map((b) => [b.id, b.bytes, b.first, b.last])).toEqual([['a', 100, 0, 3], ['#scratch2', 16, 2, 2]]);
    expect(planArena(buffers).size).toBe(104 + 16);
  });

  it('keeps an input that a later step reads, and its reshape aliases, in their own buffer', () => {
    const m = model([step(['x'], 'a', 100), step(['a'], 'b', 100, [0]), step(['b', 'a2'], 'c', 100, [0, 1])], [['a2', 'a']]);
    const { storage } = arenaBuffers(m, { inPlace: true });
    expect(storage.get('b')).toBe('b'); // a is read again by the Add, through its alias a2
    expect(storage.get('a2')).toBe('a');
    expect(storage.get('c')).toBe('b'); // b dies at the Add; a2 (= a) is listed second
  });

  it('gives every output its own buffer without in-place', () => {
    const { storage } = arenaBuffers(chain, { inPlace: false });
    expect([storage.get('a'), storage.get('b'), storage.get('c')]).toEqual(['a', 'b', 'c']);
  });
});
