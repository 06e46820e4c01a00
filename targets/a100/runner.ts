// Drives the compiled runner: device query, layer jobs (on the GPU or the host reference), the epilogue
// alone, and the GEMM timer. Files go through a private temp folder removed afterwards.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fail } from '../../src/errors.js';
import type { A100Build } from './build.js';
import { runTool } from '../../src/run-tool.js';
import { encodeJob, outputSize, type ConvJob } from './job-file.js';

/** The runner's exit status when there is no usable CUDA device. */
const NO_DEVICE = 3;

export interface CudaDevice {
  readonly name: string;
  readonly sm: number;
  readonly multiprocessors: number;
  readonly clockKHz: number;
  readonly memoryBytes: number;
}

/** GPU 0 as the runner sees it, or why there is none (no driver, no device, an architecture before sm_80). */
export async function queryDevice(build: A100Build): Promise<{ device: CudaDevice } | { missing: string }> {
  const r = await runTool(build.runner, ['device']);
  if (r.exitCode === 0) return { device: JSON.parse(r.stdout) as CudaDevice };
  if (r.exitCode === NO_DEVICE) return { missing: r.stderr.replace(/^runner: /, '').trim() };
  return fail('TOOL_FAILED', `${build.runner} device: exit ${r.exitCode}: ${r.stderr}`);
}

async function inTempDir<T>(work: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'flexq-a100-'));
  try {
    return await work(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runRunner(build: A100Build, args: readonly string[], what: string): Promise<void> {
  const r = await runTool(build.runner, args);
  if (r.exitCode === NO_DEVICE) fail('DEVICE_MISSING', `${what}: ${r.stderr.replace(/^runner: /, '').trim()}; the a100 kernel runs on an NVIDIA GPU of sm_80 or later`);
  if (r.exitCode !== 0) fail('TOOL_FAILED', `${what}: ${build.runner} ${args.join(' ')} exited ${r.exitCode}: ${r.stderr.trim()}`);
}

/** Runs one layer: on the GPU through the kernels, or with `host` through the runner's host reference. */
export async function runJob(build: A100Build, job: ConvJob, where: 'gpu' | 'host'): Promise<Int8Array> {
  return inTempDir(async (dir) => {
    const [jobPath, outPath] = [join(dir, 'job.bin'), join(dir, 'out.bin')];
    writeFileSync(jobPath, encodeJob(job));
    await runRunner(build, ['conv', jobPath, outPath, ...(where === 'host' ? ['--host'] : [])], `a100 runner (${where})`);
    const out = readFileSync(outPath);
    if (out.length !== outputSize(job)) fail('TOOL_FAILED', `a100 runner wrote ${out.length} bytes; the job has ${outputSize(job)} outputs`);
    return new Int8Array(out.buffer, out.byteOffset, out.length);
  });
}

/** One accumulator and its requantization parameters, as the runner's requant command reads them. */
export interface EpilogueCase {
  readonly acc: number;
  readonly inputScale: number;
  readonly weightScale: number;
  readonly outputScale: number;
  readonly zeroPoint: number;
  readonly min: number;
  readonly max: number;
}

/** The kernel's epilogue function, compiled for the host, on every case. */
export async function runEpilogue(build: A100Build, cases: readonly EpilogueCase[]): Promise<Int8Array> {
  return inTempDir(async (dir) => {
    const bytes = new DataView(new ArrayBuffer(28 * cases.length));
    cases.forEach((c, i) => {
      const o = 28 * i;
      bytes.setInt32(o, c.acc, true);
      bytes.setFloat32(o + 4, c.inputScale, true);
      bytes.setFloat32(o + 8, c.weightScale, true);
      bytes.setFloat32(o + 12, c.outputScale, true);
      bytes.setInt32(o + 16, c.zeroPoint, true);
      bytes.setInt32(o + 20, c.min, true);
      bytes.setInt32(o + 24, c.max, true);
    });
    writeFileSync(join(dir, 'in.bin'), new Uint8Array(bytes.buffer));
    await runRunner(build, ['requant', join(dir, 'in.bin'), join(dir, 'out.bin')], 'a100 runner (requant)');
    const out = readFileSync(join(dir, 'out.bin'));
    return new Int8Array(out.buffer, out.byteOffset, out.length);
  });
}

export interface GemmTiming {
  readonly device: string;
  readonly secondsPerGemm: number;
  readonly tops: number;
}

/** Times the dense IMMA GEMM M×K · K×N (K a multiple of 16) over `iterations` launches after one warm-up. */
export async function timeGemm(build: A100Build, m: number, n: number, k: number, iterations: number): Promise<GemmTiming> {
  const r = await runTool(build.runner, ['bench', String(m), String(n), String(k), String(iterations)]);
  if (r.exitCode !== 0) fail(r.exitCode === NO_DEVICE ? 'DEVICE_MISSING' : 'TOOL_FAILED', `a100 runner bench ${m}x${n}x${k}: ${r.stderr.trim()}`);
  return JSON.parse(r.stdout) as GemmTiming;
}
