// Builds the a100 runner (runner.cu, job.h, kernels/*.cuh) with nvcc for sm_80 and sm_90 into a content-addressed cache,
// keeping each architecture's PTX and cubin beside the binary so tests can inspect the instructions the kernel became.
// No GPU is needed to build: nvcc compiles device code for any architecture.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { fail } from '../../src/errors.js';
import { runTool } from '../../src/run-tool.js';

export const A100_ARCHS = ['sm_80', 'sm_90'] as const;
export type A100Arch = (typeof A100_ARCHS)[number];

/** The tensor-core instruction the kernel is written around: its presence in the PTX is what the build test asserts. */
export const IMMA_INSTRUCTION = 'mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32';

export interface A100Build {
  readonly dir: string;
  readonly runner: string;
  readonly ptx: Readonly<Record<A100Arch, string>>;
  readonly cubin: Readonly<Record<A100Arch, string>>;
}

const HERE = dirname(fileURLToPath(import.meta.url));
const SOURCES = ['runner.cu', 'job.h', ...['conv-geometry.cuh', 'direct-conv.cuh', 'epilogue.cuh', 'imma-gemm.cuh', 'ptx.cuh'].map((f) => `kernels/${f}`)];
const FLAGS = ['-O3', '-std=c++17', ...A100_ARCHS.flatMap((a) => ['-gencode', `arch=compute_${a.slice(3)},code=${a}`])];
/** A lock older than this belongs to a build that died: nvcc takes well under a minute here. */
const STALE_LOCK_MS = 5 * 60_000;
/** The cache lives with the installed packages: `npm ci` starts it afresh, repeated test runs reuse it. */
export const DEFAULT_CACHE = join(HERE, '..', '..', 'node_modules', '.cache', 'flexq-a100');

function outputs(dir: string): A100Build {
  const per = (ext: string) => Object.fromEntries(A100_ARCHS.map((a) => [a, join(dir, `runner.${a}.${ext}`)])) as Record<A100Arch, string>;
  return { dir, runner: join(dir, 'runner'), ptx: per('ptx'), cubin: per('cubin') };
}

async function nvccVersion(): Promise<string> {
  const r = await runTool('nvcc', ['--version']);
  if (r.exitCode !== 0) fail('TOOL_FAILED', `nvcc (the CUDA compiler) is not runnable: ${r.stderr.trim().split('\n')[0]}; install the CUDA toolkit (nvcc 13.0) and put it on PATH`);
  return r.stdout;
}

/** Compiles into a private folder and renames it into place, so a reader never sees half a build. */
async function compileInto(dir: string): Promise<void> {
  const temp = `${dir}.tmp-${process.pid}`;
  rmSync(temp, { recursive: true, force: true });
  mkdirSync(temp, { recursive: true });
  try {
    const args = [...FLAGS, '--keep', '--keep-dir', temp, join(HERE, 'runner.cu'), '-o', join(temp, 'runner')];
    const r = await runTool('nvcc', args);
    if (r.exitCode !== 0) fail('TOOL_FAILED', `nvcc failed building targets/a100/runner.cu (exit ${r.exitCode}): nvcc ${args.join(' ')}\n${r.stdout}${r.stderr}`);
    for (const a of A100_ARCHS) {
      renameSync(join(temp, `runner.compute_${a.slice(3)}.ptx`), join(temp, `runner.${a}.ptx`));
      renameSync(join(temp, `runner.compute_${a.slice(3)}.cubin`), join(temp, `runner.${a}.cubin`));
    }
    const keep = new Set(['runner', ...A100_ARCHS.flatMap((a) => [`runner.${a}.ptx`, `runner.${a}.cubin`])]);
    for (const f of readdirSync(temp)) if (!keep.has(f)) rmSync(join(temp, f), { recursive: true, force: true });
    renameSync(temp, dir);
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}

/** Compiles (or finds in the cache) the runner for sm_80 and sm_90; the cache key covers the sources, flags and nvcc. */
export async function buildA100(cacheRoot = DEFAULT_CACHE): Promise<A100Build> {
  const hash = createHash('sha256').update(await nvccVersion()).update(FLAGS.join(' '));
  for (const f of SOURCES) hash.update(f).update(readFileSync(join(HERE, f)));
  const dir = join(cacheRoot, hash.digest('hex').slice(0, 16));
  const build = outputs(dir);
  if (existsSync(build.runner)) return build;

  // One compiler run per build, even when several test processes ask at once: the others wait for its result.
  const lock = `${dir}.lock`;
  mkdirSync(cacheRoot, { recursive: true });
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const lockedAt = statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now();
      if (Date.now() - lockedAt > STALE_LOCK_MS) rmSync(lock, { recursive: true, force: true });
      await sleep(250);
      if (existsSync(build.runner)) return build;
    }
  }
  try {
    if (!existsSync(build.runner)) await compileInto(dir);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
  return build;
}
