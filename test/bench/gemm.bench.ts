// `npm run bench -- gemm [square|model]`: TOPS of the a100 IMMA GEMM kernel (dense rows, the fully-connected path,
// the same main loop as convolutions) on square and model-shaped int8 GEMMs, against the int8 dense Tensor Core peak
// of the GPU it ran on. Without a GPU it prints that it cannot run, and why.
// Model-shaped GEMMs: a convolution as the GEMM it becomes, M = batch · output pixels, N = output channels,
// K = input channels · taps (rounded up to 16, as the runner pads rows).
import { buildA100 } from '../../targets/a100/build.js';
import { queryDevice, timeGemm } from '../../targets/a100/runner.js';
import type { BenchResult } from './table.js';

interface Shape {
  readonly name: string;
  readonly m: number;
  readonly n: number;
  readonly k: number;
}

const SQUARE: readonly Shape[] = [2048, 4096, 8192].map((s) => ({ name: `square ${s}³`, m: s, n: s, k: s }));
const MODEL: readonly Shape[] = [
  { name: 'ResNet-8 3×3 64→64 at 8×8, batch 256', m: 256 * 64, n: 64, k: 576 },
  { name: 'MobileNetV2 1×1 144→24 at 56×56, batch 32', m: 32 * 56 * 56, n: 24, k: 144 },
  { name: 'MobileNetV2 1×1 960→160 at 7×7, batch 256', m: 256 * 49, n: 160, k: 960 },
  { name: 'MobileNetV2 1×1 320→1280 at 7×7, batch 256', m: 256 * 49, n: 1280, k: 320 },
  { name: 'MobileNetV2 classifier 1280→1000, batch 256', m: 256, n: 1000, k: 1280 },
];

/** Dense int8 Tensor Core peaks (TOPS, no sparsity) from NVIDIA's data sheets, by device name. */
const PEAKS: ReadonlyArray<readonly [RegExp, number]> = [
  [/A100/, 624],
  [/H100.*PCIe/, 1513],
  [/H100|H200|H800/, 1979],
  [/A30\b/, 330],
  [/L40S/, 733],
];

export default async function gemmBench(args: string[]): Promise<BenchResult> {
  const columns = ['GEMM', 'M', 'N', 'K', 'ms', 'TOPS', '% of int8 peak'];
  const title = 'a100 IMMA int8 GEMM (mma.sync m16n8k32), kernel time only';
  const found = await queryDevice(await buildA100());
  if ('missing' in found) {
    const why = `cannot run: ${found.missing}. The kernel needs an NVIDIA GPU of sm_80 or later; it was built (nvcc) but not run.`;
    process.stderr.write(`bench gemm: ${why}\n`);
    return { title, columns, rows: [], notes: [why] };
  }
  const { device } = found;
  const peak = PEAKS.find(([pattern]) => pattern.test(device.name))?.[1];
  const shapes = args.includes('square') ? SQUARE : args.includes('model') ? MODEL : [...SQUARE, ...MODEL];
  const rows: (string | number)[][] = [];
  for (const s of shapes) {
    const k = Math.ceil(s.k / 16) * 16;
    const iterations = Math.max(5, Math.min(200, Math.round(5e13 / (2 * s.m * s.n * k))));
    const t = await timeGemm(await buildA100(), s.m, s.n, k, iterations);
    rows.push([s.name, s.m, s.n, k, t.secondsPerGemm * 1e3, t.tops, peak ? (100 * t.tops) / peak : 'unknown peak']);
  }
  return {
    title,
    columns,
    rows,
    notes: [
      `device: ${device.name} (sm_${device.sm}, ${device.multiprocessors} SMs); int8 dense peak ${peak ?? 'unknown'} TOPS`,
      'TOPS = 2·M·N·K / time, averaged over repeated launches after one warm-up (CUDA events); requantization epilogue included',
      'on Hopper the listed peak is reached only by wgmma; this kernel uses the sm_80 mma.sync path',
    ],
    extra: { device, peak },
  };
}
