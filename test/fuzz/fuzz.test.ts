// A few hundred seeded mutations of every input flexq reads: each ends in a FlexqError or succeeds, within its time
// limit. `node --import tsx test/fuzz/run.ts --cases 10000 --seed 1` runs the long version.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FlexqError } from '../../src/errors.js';
import { importTflite } from '../../src/import/tflite/import-tflite.js';
import { optimizeGraph } from '../../src/passes/pipeline.js';
import { KINDS } from './cases.js';
import { runFuzz } from './harness.js';

const describeFailure = (f: { index: number; kind: string; outcome: string; label: string; code?: string; message?: string }) =>
  `#${f.index} ${f.kind} ${f.outcome}: ${f.label}: ${f.code}: ${f.message}`;

describe('fuzz', () => {
  it('1000 seeded mutations of .onnx, .tflite, .fq, .npy and images: a clear error or success, each within 10 s', async () => {
    const report = await runFuzz({ cases: 1000, seed: 1, timeLimitMs: 10_000 });
    expect(report.failures.map(describeFailure)).toEqual([]);
    for (const kind of KINDS) {
      const c = report.byKind[kind];
      expect(c.cases, kind).toBeGreaterThanOrEqual(100);
      // Both outcomes occur: the mutations get past the parsers, and they are not all harmless.
      expect(c.errors, kind).toBeGreaterThan(0);
      expect(c.ok, kind).toBeGreaterThan(0);
    }
  });

  it('a case that hangs is stopped at its time limit and counted, and the next cases still run', async () => {
    const report = await runFuzz({ cases: 4, seed: 1, timeLimitMs: 1500, hangAt: 1 });
    expect(report.failures.map((f) => [f.index, f.outcome])).toEqual([[1, 'timeout']]);
    expect(KINDS.reduce((s, k) => s + report.byKind[k].cases, 0)).toBe(4);
  });

  it('every int32 of tiny-cnn.tflite set to 0, −1 or 2^31−1: a clear error or success, each fast', () => {
    const base = new Uint8Array(readFileSync(new URL('../fixtures/tiny-cnn.tflite', import.meta.url)));
    const bad: string[] = [];
    let slowest = 0;
    for (let at = 0; at + 4 <= base.length; at += 4)
      for (const v of [0, -1, 0x7fffffff]) {
        const bytes = base.slice();
        new DataView(bytes.buffer).setInt32(at, v, true);
        const start = performance.now();
        try {
          optimizeGraph(importTflite(bytes, 'tiny-cnn.tflite'));
        } catch (e) {
          if (!(e instanceof FlexqError)) bad.push(`int32 at ${at} := ${v}: ${(e as Error).stack}`);
        }
        slowest = Math.max(slowest, performance.now() - start);
      }
    expect(bad).toEqual([]);
    expect(slowest).toBeLessThan(2000);
  });
});
