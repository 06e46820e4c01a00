import { describe, expect, it } from 'vitest';
import { ARENA_ALIGNMENT, planArena, type ArenaBuffer } from '../../../targets/cortex-m/plan-arena.js';
import { mulberry32 } from '../../../src/random.js';

const overlaps = (a: ArenaBuffer, b: ArenaBuffer) => a.first <= b.last && b.first <= a.last;

describe('planArena', () => {
  it('never gives two buffers that live at the same time overlapping bytes, and reuses bytes across lifetimes', () => {
    const random = mulberry32(7);
    for (let trial = 0; trial < 50; trial++) {
      const buffers: ArenaBuffer[] = Array.from({ length: 12 }, (_, i) => {
        const first = Math.floor(random() * 10);
        return { id: `b${i}`, bytes: 1 + Math.floor(random() * 4000), first, last: first + Math.floor(random() * 4) };
      });
      const plan = planArena(buffers);
      for (const a of buffers) {
        const at = plan.offsets.get(a.id)!;
        expect(at % ARENA_ALIGNMENT).toBe(0);
        expect(at + a.bytes).toBeLessThanOrEqual(plan.size);
        for (const b of buffers) {
          if (a === b || !overlaps(a, b)) continue;
          const bt = plan.offsets.get(b.id)!;
          expect(at + a.bytes <= bt || bt + b.bytes <= at, `${a.id} and ${b.id}`).toBe(true);
        }
      }
      expect(plan.size).toBeLessThanOrEqual(buffers.reduce((s, b) => s + Math.ceil(b.bytes / 8) * 8, 0));
    }
  });

  it('a chain of layers needs only two buffers at a time', () => {
    const chain = [100, 300, 200, 50].map((bytes, i) => ({ id: `t${i}`, bytes, first: i, last: i + 1 }));
    expect(planArena(chain).size).toBe(304 + 200);
  });
});
