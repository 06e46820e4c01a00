/**
 * `node --import tsx test/fuzz/run.ts --cases 10000 --seed 1 [--time-limit-ms 10000] [--workers 1] [--only INDEX]`:
 * runs seeded mutations of .onnx, .tflite, .fq, .npy and image files through flexq's real code paths, prints
 * counts per file type as a table, writes them as JSON to test/bench/results/fuzz.json, and exits 1 when any case
 * ended in an internal error (an exception other than FlexqError) or ran over the time limit.
 * `--only INDEX` reruns one case in this process and prints its outcome in full.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../../src/fs-atomic.js';
import { formatTable } from '../bench/table.js';
import { loadBases } from './bases.js';
import { KINDS, runCase } from './cases.js';
import { runFuzz, type FuzzReport } from './harness.js';

const RESULTS = join(dirname(fileURLToPath(import.meta.url)), '..', 'bench', 'results', 'fuzz.json');

function flag(argv: string[], name: string, fallback: number): number {
  const i = argv.indexOf(name);
  if (i < 0) return fallback;
  const v = Number(argv[i + 1]);
  if (!Number.isInteger(v) || v < 0) throw new Error(`${name} needs a non-negative integer, got '${argv[i + 1]}'`);
  return v;
}

export function reportTable(r: FuzzReport): string {
  const rows: (string | number)[][] = KINDS.map((k) => {
    const c = r.byKind[k];
    return [k, c.cases, c.errors, c.ok, c.internal, c.timeouts, c.maxMs];
  });
  const total = (f: (c: FuzzReport['byKind'][keyof FuzzReport['byKind']]) => number) => KINDS.reduce((s, k) => s + f(r.byKind[k]), 0);
  rows.push(['all', total((c) => c.cases), total((c) => c.errors), total((c) => c.ok), total((c) => c.internal), total((c) => c.timeouts), Math.max(...KINDS.map((k) => r.byKind[k].maxMs))]);
  return formatTable({
    title: `fuzz: ${r.cases} cases, seed ${r.seed}, ${r.wallSeconds.toFixed(1)} s`,
    columns: ['file type', 'cases', 'clear errors', 'successes', 'internal errors', 'timeouts', 'slowest case (ms)'],
    rows,
    notes: [`Per-case time limit ${r.timeLimitMs} ms. A clear error is a FlexqError; anything else is internal.`],
  });
}

async function main(argv: string[]): Promise<number> {
  const seed = flag(argv, '--seed', 1);
  if (argv.includes('--only')) {
    const index = flag(argv, '--only', 0);
    const dir = mkdtempSync(join(tmpdir(), 'flexq-fuzz-'));
    try {
      const r = await runCase(await loadBases(), seed, index, dir);
      process.stdout.write(JSON.stringify(r, null, 2) + '\n');
      return r.outcome === 'internal' ? 1 : 0;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const cases = flag(argv, '--cases', 1000);
  const report = await runFuzz({
    cases,
    seed,
    timeLimitMs: flag(argv, '--time-limit-ms', 10_000),
    workers: flag(argv, '--workers', 1),
    first: flag(argv, '--first', 0),
    onResult: (r) => {
      if (r.outcome === 'internal' || r.outcome === 'timeout') process.stderr.write(`#${r.index} ${r.kind} ${r.outcome}: ${r.label}: ${r.code}: ${r.message}\n`);
      else if ((r.index + 1) % 500 === 0) process.stderr.write(`… ${r.index + 1} cases\n`);
    },
  });
  process.stdout.write(reportTable(report) + '\n');
  mkdirSync(dirname(RESULTS), { recursive: true });
  writeFileAtomic(RESULTS, JSON.stringify({ name: 'fuzz', date: new Date().toISOString(), ...report }, null, 2) + '\n');
  process.stderr.write(`wrote ${RESULTS}\n`);
  const bad = KINDS.reduce((s, k) => s + report.byKind[k].internal + report.byKind[k].timeouts, 0);
  return bad > 0 ? 1 : 0;
}

main(process.argv.slice(2)).then((code) => process.exit(code), (e: Error) => {
  process.stderr.write(`fuzz: ${e.stack ?? e.message}\n`);
  process.exit(1);
});
