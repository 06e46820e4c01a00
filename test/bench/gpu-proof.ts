/**
 * `npm run gpu-proof`: everything a machine with an NVIDIA GPU has to prove, in one run (budget: 8 minutes):
 * the IMMA kernel built with nvcc and checked bit-exact against the integer runtime's a100 emulation on every
 * conv/FC layer of the shared models and on random shapes off the tile grid (test/targets/a100/gpu.test.ts), its
 * int8 TOPS on large GEMMs against the GPU's peak (the gemm bench), and the WebGPU reconstruction backend against
 * ort-cpu per iteration on MobileNetV2's blocks (the recon bench). Prints the tables, writes
 * test/bench/results/gpu-proof.json, exits 1 on any mismatch. Without a GPU it stops at once with one line.
 * `npm run gpu-proof -- --quality N` also runs a MobileNetV2 point of the quality curve (outside the 8 minutes):
 * W4A32 per-channel FlexRound block by block, N iterations per block on all 500 calibration photos, on the WebGPU
 * backend, top-1 on the held-out 500 at seeds 0–4 and their mean (the quality bench's rows; on a 2-core CPU 1000
 * iterations gave 76.8–79.6 %, 22 minutes a seed alone, float 81.2 %).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../../src/fs-atomic.js';
import gemmBench from './gemm.bench.js';
import qualityBench from './quality.bench.js';
import reconBench from './recon.bench.js';
import { formatTable, type BenchResult } from './table.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function gpuName(): string | undefined {
  try {
    return execFileSync('nvidia-smi', ['-L'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim().split('\n')[0];
  } catch {
    return undefined;
  }
}

/** The a100 kernel's bit-exactness suite, run by vitest; its counts from the JSON reporter. */
function bitExactSuite(): BenchResult {
  const dir = mkdtempSync(join(tmpdir(), 'flexq-gpu-proof-'));
  const report = join(dir, 'vitest.json');
  const start = performance.now();
  spawnSync(process.execPath, [join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', '--config', 'test/vitest.config.ts', 'test/targets/a100/gpu.test.ts', '--reporter=json', `--outputFile=${report}`], {
    cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, FLEXQ_REQUIRE_TOOLS: '1' },
  });
  const r = JSON.parse(readFileSync(report, 'utf8')) as { numPassedTests: number; numFailedTests: number; numPendingTests: number };
  rmSync(dir, { recursive: true, force: true });
  return {
    title: 'a100 IMMA kernel against the runtime a100 mode (every conv/FC layer of the shared models, random shapes)',
    columns: ['tests passed', 'failed', 'skipped', 'seconds'],
    rows: [[r.numPassedTests, r.numFailedTests, r.numPendingTests, (performance.now() - start) / 1000]],
  };
}

async function main(args: readonly string[]): Promise<number> {
  const at = args.indexOf('--quality');
  const qualityIters = at >= 0 ? args[at + 1] : undefined;
  if (qualityIters !== undefined && !(Number(qualityIters) > 0 && Number.isInteger(Number(qualityIters)))) {
    process.stderr.write(`gpu-proof: --quality ${qualityIters}: expected a positive number of iterations per block, e.g. --quality 1000\n`);
    return 1;
  }
  const gpu = gpuName();
  if (!gpu) {
    process.stderr.write('gpu-proof: no NVIDIA GPU here (nvidia-smi is not runnable); run it on a machine with an NVIDIA GPU of sm_80 or later and its driver\n');
    return 1;
  }
  process.stderr.write(`gpu-proof: ${gpu}\n`);
  const results = [
    bitExactSuite(),
    await gemmBench([]),
    await reconBench(['--backend', 'webgpu', '--models', 'mobilenetv2', '--granularity', 'block', '--runs', '3', '--no-torch']),
    ...(qualityIters === undefined
      ? []
      : [await qualityBench(['--models', 'mobilenetv2', '--only', 'W4A32 flexround block brecq', '--per-channel', '--samples', '500', '--iters', qualityIters, '--seed', '0,1,2,3,4', '--backend', 'webgpu'])]),
  ];
  for (const r of results) process.stdout.write(formatTable(r) + '\n\n');
  const out = join(ROOT, 'test/bench/results/gpu-proof.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileAtomic(out, JSON.stringify({ name: 'gpu-proof', date: new Date().toISOString(), gpu, results }, null, 2) + '\n');
  process.stderr.write(`wrote ${out}\n`);
  const [suite] = results[0].rows;
  return suite[1] === 0 && Number(suite[0]) > 0 ? 0 : 1;
}

main(process.argv.slice(2)).then((code) => process.exit(code), (e: Error) => {
  process.stderr.write(`gpu-proof: ${e.stack ?? e.message}\n`);
  process.exit(1);
});
