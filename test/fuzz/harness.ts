// Runs fuzz cases in worker threads, so a case that hangs or runs out of memory is stopped and counted, not fatal.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { KINDS, kindOf, type CaseResult, type FuzzKind, type Outcome } from './cases.js';

export interface FuzzOptions {
  readonly cases: number;
  readonly seed: number;
  /** Per-case limit; a case over it is stopped (its worker terminated) and counted as a timeout. */
  readonly timeLimitMs: number;
  /** Worker threads running cases side by side (1 on a 2-core machine: the main thread only waits). */
  readonly workers?: number;
  /** The first case index (cases first … first + cases − 1). */
  readonly first?: number;
  readonly onResult?: (r: CaseResult) => void;
  /** Makes case `hangAt` spin forever, to test that the time limit stops it (tests only). */
  readonly hangAt?: number;
}

export interface KindCounts {
  cases: number;
  errors: number;
  ok: number;
  internal: number;
  timeouts: number;
  /** The slowest case, in ms. */
  maxMs: number;
  /** Clear errors by code. */
  codes: Record<string, number>;
}

export interface FuzzReport {
  readonly seed: number;
  readonly cases: number;
  readonly wallSeconds: number;
  readonly timeLimitMs: number;
  readonly byKind: Record<FuzzKind, KindCounts>;
  /** Every internal error and timeout (the first 200), to reproduce with `run.ts --only INDEX`. */
  readonly failures: CaseResult[];
}

const WORKER = new URL('./worker.mjs', import.meta.url);
const STARTUP_LIMIT_MS = 180_000;

/** One worker thread that runs one case at a time; replaced when it hangs or dies. */
class CaseRunner {
  private worker!: Worker;
  private ready!: Promise<void>;
  private closed = false;
  private pending?: { index: number; resolve: (r: CaseResult) => void; timer: NodeJS.Timeout; start: number };

  constructor(private readonly setup: { seed: number; dir: string; hangAt?: number }, private readonly limitMs: number) {
    this.start();
  }

  private start(): void {
    const worker = new Worker(WORKER, { workerData: this.setup, resourceLimits: { maxOldGenerationSizeMb: 3072 } });
    this.worker = worker;
    this.ready = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`a fuzz worker did not start within ${STARTUP_LIMIT_MS / 1000} s`)), STARTUP_LIMIT_MS);
      timer.unref(); // a replacement worker that is never used must not keep the process alive
      worker.once('message', () => {
        clearTimeout(timer);
        resolve();
      });
      worker.once('error', (e) => reject(e));
    });
    this.ready.catch(() => undefined); // surfaced by run(); a replacement nobody uses must not reject unhandled
    const current = () => !this.closed && worker === this.worker;
    worker.on('message', (m: { type: string; result?: CaseResult }) => {
      if (current() && m.type === 'result' && this.pending && m.result?.index === this.pending.index) this.finish(m.result);
    });
    // A worker that dies mid-case (out of memory, an uncaught exception outside the case) fails that case.
    worker.on('error', (e) => current() && this.abandon('internal', e.name, `worker died: ${e.message}`));
    worker.on('exit', (code) => current() && this.abandon('internal', 'WorkerExit', `worker exited with code ${code}`));
  }

  private finish(r: CaseResult): void {
    const p = this.pending!;
    this.pending = undefined;
    clearTimeout(p.timer);
    p.resolve(r);
  }

  private abandon(outcome: Outcome, code: string, message: string): void {
    const p = this.pending;
    if (!p) return;
    const worker = this.worker;
    this.start();
    void worker.terminate();
    this.finish({ index: p.index, kind: kindOf(p.index), outcome, label: `(case ${p.index}; rerun with --only ${p.index})`, code, message, ms: performance.now() - p.start });
  }

  async run(index: number): Promise<CaseResult> {
    await this.ready;
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.abandon('timeout', 'Timeout', `over the ${this.limitMs} ms limit`), this.limitMs);
      this.pending = { index, resolve, timer, start: performance.now() };
      this.worker.postMessage(index);
    });
  }

  async close(): Promise<void> {
    this.closed = true; // so the worker's exit is not taken for a crash
    await this.worker.terminate();
  }
}

function emptyCounts(): KindCounts {
  return { cases: 0, errors: 0, ok: 0, internal: 0, timeouts: 0, maxMs: 0, codes: {} };
}

export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const dir = mkdtempSync(join(tmpdir(), 'flexq-fuzz-'));
  const first = options.first ?? 0;
  const runners = Array.from({ length: Math.max(1, options.workers ?? 1) }, () => new CaseRunner({ seed: options.seed, dir, hangAt: options.hangAt }, options.timeLimitMs));
  const byKind = Object.fromEntries(KINDS.map((k) => [k, emptyCounts()])) as Record<FuzzKind, KindCounts>;
  const failures: CaseResult[] = [];
  const start = performance.now();
  let next = first;
  try {
    await Promise.all(
      runners.map(async (runner) => {
        for (let index = next++; index < first + options.cases; index = next++) {
          const r = await runner.run(index);
          const c = byKind[r.kind];
          c.cases++;
          c.maxMs = Math.max(c.maxMs, Math.round(r.ms));
          if (r.outcome === 'error') {
            c.errors++;
            c.codes[r.code!] = (c.codes[r.code!] ?? 0) + 1;
          } else if (r.outcome === 'ok') c.ok++;
          else {
            if (r.outcome === 'internal') c.internal++;
            else c.timeouts++;
            if (failures.length < 200) failures.push(r);
          }
          options.onResult?.(r);
        }
      }),
    );
  } finally {
    await Promise.all(runners.map((r) => r.close()));
    rmSync(dir, { recursive: true, force: true });
  }
  return { seed: options.seed, cases: options.cases, wallSeconds: (performance.now() - start) / 1000, timeLimitMs: options.timeLimitMs, byKind, failures };
}
