// The deployment summary of validate's report: each compared executor that runs a compiled target's artefact
// (qemu-m4 runs cortex-m4's) has that target built and proven on a few of the data's samples, in a temporary folder,
// for its figures (flash, arena, instructions per inference).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Dataset } from '../../calibration/index.js';
import type { QuantizedGraph } from '../ir/quantized-graph.js';
import type { CompileReport } from '../target.js';
import { compileTargetOf, compilerFor } from './registry.js';
import type { JobHooks } from './progress.js';

export interface DeploymentReport {
  readonly executor: string;
  readonly target: string;
  /** The numeric figures of the target's compile report (flashBytes, arenaBytes, instructionsPerInference, …). */
  readonly figures: Record<string, number>;
  readonly bitExact: boolean;
  /** The compile report as a person reads it. */
  readonly summary: string;
}

/** Samples the proof runs on: enough to show bit-exactness, few enough to stay quick. */
const PROOF_SAMPLES = 4;

async function firstSamples(data: Dataset, count: number): Promise<{ inputs: Float32Array; count: number }> {
  for await (const batch of data.batches(count)) return { inputs: batch.data.slice(), count: batch.count };
  return { inputs: new Float32Array(0), count: 0 };
}

export async function deployments(q: QuantizedGraph, executors: readonly string[], data: Dataset, o: JobHooks): Promise<DeploymentReport[]> {
  const reports: DeploymentReport[] = [];
  for (const executor of executors) {
    const target = compileTargetOf(executor);
    if (target === undefined) continue;
    const compiler = compilerFor(target);
    const { inputs, count } = await firstSamples(data, PROOF_SAMPLES);
    const outDir = mkdtempSync(join(tmpdir(), 'flexq-deploy-'));
    try {
      o.log?.(`validate: building ${target} for the deployment summary`);
      const r: CompileReport = await compiler.compile({ q, outDir, kernels: 'optimized', inputs, count });
      const figures = Object.fromEntries(Object.entries(r).filter((e): e is [string, number] => typeof e[1] === 'number'));
      reports.push({ executor, target, figures, bitExact: r.bitExact, summary: compiler.describe(r) });
    } finally {
      rmSync(outDir, { recursive: true, force: true });
    }
  }
  return reports;
}
