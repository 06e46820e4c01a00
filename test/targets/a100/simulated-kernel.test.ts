// The IMMA kernel body itself, run on the CPU: warp-simulator.cpp compiles targets/a100/kernels/imma-gemm.cuh with g++
// and the PTX simulated per the ISA (warp-simulator.h), feeds it the operands the runner uploads (targets/a100/job.h),
// and its output must equal the TS runtime's a100 mode byte for byte. This checks the tiling, the ldmatrix / mma
// fragment indexing, the cp.async pipeline's waits and the implicit-GEMM gather without a GPU (not the hardware's
// own behaviour, which gpu.test.ts checks on a GPU).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeJob } from '../../../targets/a100/job-file.js';
import { runTool } from '../../../src/run-tool.js';
import { countMismatches, modelLayers, randomJob, runtimeA100, type LayerShape } from './layers.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const TARGET = fileURLToPath(new URL('../../../targets/a100/', import.meta.url));
let dir: string;
let simulator: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'flexq-a100-sim-'));
  simulator = join(dir, 'warp-simulator');
  const r = await runTool('g++', ['-std=c++20', '-O2', '-pthread', '-DFLEXQ_WARP_SIMULATOR', '-I', HERE, '-I', TARGET, join(HERE, 'warp-simulator.cpp'), '-o', simulator]);
  if (r.exitCode !== 0) throw new Error(`g++ warp-simulator.cpp failed: ${r.stderr}`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const conv = (name: string, input: number[], output: number[], kernel: [number, number], strides: [number, number], pads: [number, number, number, number], dilations: [number, number], groups: number): LayerShape => ({
  name, kind: 'conv', input, output, window: { kernel, strides, pads, dilations }, groups,
});

const resnet8 = modelLayers('resnet8-cifar10/float.onnx');
const CASES: [string, LayerShape, number][] = [
  ['fully connected 130 × 100 → 129 (2 × 2 blocks, K tail)', { name: 'fc', kind: 'fc', input: [100], output: [129], groups: 1 }, 130],
  ['fully connected 5 × 200 → 10 (ResNet-8 head shape, larger depth)', { name: 'fc', kind: 'fc', input: [200], output: [10], groups: 1 }, 5],
  ['grouped 3×3 stride 2, asymmetric pads', conv('grouped', [8, 13, 11], [12, 6, 5], [3, 3], [2, 2], [1, 0, 0, 1], [1, 1], 4), 3],
  ['dilated 3×3, 2 groups, 2 K tiles', conv('dilated', [16, 9, 9], [20, 7, 7], [3, 3], [1, 1], [2, 2, 2, 2], [3, 3], 2), 2],
  ['5×4 stride 3', conv('stride-3', [5, 31, 29], [33, 10, 10], [5, 4], [3, 3], [2, 1, 1, 2], [1, 1], 1), 1],
  ['ResNet-8 first conv (3 → 16 at 32×32: 8 row blocks)', resnet8[0], 1],
  ['ResNet-8 last 3×3 64 → 64 (9 K tiles)', resnet8.filter((l) => l.kind === 'conv' && l.window!.kernel[0] === 3).at(-1)!, 1],
];

describe('IMMA kernel body on the host warp simulator = runtime a100 mode', () => {
  it.each(CASES)('%s', async (_, layer, batch) => {
    const job = randomJob(layer, batch, 31 + batch);
    const [jobPath, outPath] = [join(dir, 'job.bin'), join(dir, 'out.bin')];
    writeFileSync(jobPath, encodeJob(job));
    const r = await runTool(simulator, [jobPath, outPath]);
    expect(r.stderr).toBe('');
    const kernel = new Int8Array(readFileSync(outPath));
    const runtime = runtimeA100(job);
    expect(countMismatches(kernel, runtime)).toBe(0);
    expect(new Set(runtime).size).toBeGreaterThan(8);
  });
});
