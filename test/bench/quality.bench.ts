/**
 * `npm run bench -- quality [--iters N[,N…]] [--models resnet8,dscnn,mobilenetv2] [--only TEXT] [--backend KIND]
 * [--per-channel] [--samples N] [--lr X] [--lr-schedule constant|cosine] [--seed S[,S…]] [--max-minutes M]`: the accuracy
 * table of the reconstruction issue, one row per model, bits, method, unit, iteration count and seed (a list of counts
 * makes the quality-at-budget curve; a list of seeds adds each point's mean, since the seed alone moves MobileNetV2's
 * top-1 by up to 3 points). `--max-minutes` stops starting rows once that much time is spent; the rows left are listed
 * as "not run" with the command that runs each. On a GPU host, `--models mobilenetv2 --backend webgpu --iters 5000`
 * is the paper's MobileNetV2 setting, less its 1024 samples (imagenet-sample's 1000 images are half held out).
 * Every row quantizes with flexq's own pipeline (first and last layer 8-bit, seed 0 unless --seed) on the calibration split and
 * evaluates on data calibration never saw:
 * ResNet-8: calibrate on cifar10/calib-1024, evaluate on cifar10/test-200; DS-CNN: first / last 500 of kws;
 * MobileNetV2 (W4A32 and W4A8; RTN, FlexRound layer-wise and block-wise with BRECQ and QDrop): first / last 500 of imagenet-sample.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Preprocess } from '../../calibration/index.js';
import { BACKEND_KINDS, type BackendKind } from '../../src/backend/select.js';
import { evaluate, quantize, QUANT_METHODS, type ActivationBits, type QuantMethod, type WeightBits } from '../../src/index.js';
import { DEFAULT_LR_SCHEDULE } from '../../src/api/quantize.js';
import { LR_SCHEDULES, type LrSchedule } from '../../src/quant/lr-schedule.js';
import { writeFq } from '../../src/quant/fq-file.js';
import { data, model } from '../helpers/shared.js';
import type { BenchResult } from './table.js';

interface Split {
  readonly path: string;
  readonly labels?: string;
  readonly limit?: number;
  readonly offset?: number;
}

interface ModelSetup {
  readonly name: string;
  readonly file: string;
  readonly preprocess: Preprocess;
  readonly calib: Split;
  readonly test: Split;
  readonly rows: readonly Row[];
}

interface Row {
  readonly wbits: WeightBits;
  readonly abits: ActivationBits;
  readonly method: QuantMethod;
  readonly granularity: 'layer' | 'block';
  readonly setting: 'brecq' | 'qdrop';
}


/** Layer-wise rows for every bit setting and method, then block-wise BRECQ and QDrop rows at W4A8. */
function table(bits: readonly [WeightBits, ActivationBits][]): Row[] {
  const rows: Row[] = [];
  for (const [wbits, abits] of bits)
    for (const method of QUANT_METHODS) rows.push({ wbits, abits, method, granularity: 'layer', setting: 'brecq' });
  for (const setting of ['brecq', 'qdrop'] as const)
    for (const method of ['adaround', 'flexround'] as const) rows.push({ wbits: 4, abits: 8, method, granularity: 'block', setting });
  return rows;
}

/** RTN, then FlexRound layer-wise and block-wise (BRECQ, QDrop), at W4A32 and W4A8 (the settings the paper reports for MobileNetV2). */
function mobileNetRows(): Row[] {
  return ([32, 8] as const).flatMap((abits) => [
    { wbits: 4, abits, method: 'rtn', granularity: 'layer', setting: 'brecq' } as const,
    { wbits: 4, abits, method: 'flexround', granularity: 'layer', setting: 'brecq' } as const,
    ...(['brecq', 'qdrop'] as const).map((setting) => ({ wbits: 4, abits, method: 'flexround', granularity: 'block', setting }) as const),
  ]);
}

/** Per-channel weights where the method learns them (quantize refuses AdaRound and AdaQuant per channel). */
const perChannelMethods: readonly QuantMethod[] = ['rtn', 'flexround'];

const KWS = { path: data('kws/features.npy'), labels: data('kws/labels.npy') };
const MODELS: Record<string, ModelSetup> = {
  resnet8: {
    name: 'ResNet-8',
    file: model('resnet8-cifar10/float.onnx'),
    preprocess: 'none',
    calib: { path: data('cifar10/calib-1024') },
    test: { path: data('cifar10/test-200') },
    rows: table([[4, 32], [3, 32], [2, 32], [4, 8], [8, 8]]),
  },
  dscnn: {
    name: 'DS-CNN',
    file: model('dscnn-kws/float.onnx'),
    preprocess: 'none',
    calib: { ...KWS, limit: 500 },
    test: { ...KWS, offset: 500 },
    rows: table([[4, 32], [3, 32], [4, 8], [8, 8]]),
  },
  mobilenetv2: {
    name: 'MobileNetV2',
    file: model('mobilenetv2-imagenet/float-from-int8.onnx'),
    preprocess: 'imagenet',
    calib: { path: data('imagenet-sample'), limit: 500 },
    test: { path: data('imagenet-sample'), offset: 500 },
    rows: mobileNetRows(),
  },
};

export default async function quality(args: string[]): Promise<BenchResult> {
  const option = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
  const iterCounts = (option('--iters') ?? '1000').split(',').map(Number);
  if (iterCounts.some((n) => !(Number.isInteger(n) && n > 0))) throw new Error(`--iters ${option('--iters')}: expected positive integers, e.g. 100,300,1000`);
  const only = option('--only');
  const backend = (option('--backend') ?? 'auto') as BackendKind;
  if (!BACKEND_KINDS.includes(backend)) throw new Error(`--backend ${backend}: expected one of ${BACKEND_KINDS.join(', ')}`);
  const perChannel = args.includes('--per-channel');
  const samples = option('--samples') === undefined ? undefined : Number(option('--samples'));
  const lr = option('--lr') === undefined ? undefined : Number(option('--lr'));
  const lrSchedule = option('--lr-schedule') as LrSchedule | undefined;
  if (lrSchedule !== undefined && !LR_SCHEDULES.includes(lrSchedule)) throw new Error(`--lr-schedule ${lrSchedule}: expected one of ${LR_SCHEDULES.join(', ')}`);
  const seeds = (option('--seed') ?? '0').split(',').map(Number);
  if (seeds.some((n) => !Number.isInteger(n))) throw new Error(`--seed ${option('--seed')}: expected integers, e.g. 0 or 0,1,2,3,4`);
  const maxSeconds = 60 * Number(option('--max-minutes') ?? Infinity);
  const modelNames = (option('--models') ?? 'resnet8,dscnn,mobilenetv2').split(',');
  const chosen = modelNames.map((m) => {
    if (!MODELS[m]) throw new Error(`--models ${m}: expected some of ${Object.keys(MODELS).join(', ')}`);
    return { key: m, ...MODELS[m] };
  });
  /** The options every row's command repeats, so a "not run" row's command measures what this run would have. */
  const common = [
    ...(perChannel ? ['--per-channel'] : []),
    ...(samples !== undefined ? ['--samples', samples] : []),
    ...(lr !== undefined ? ['--lr', lr] : []),
    ...(lrSchedule !== undefined ? ['--lr-schedule', lrSchedule] : []),
    ...(backend !== 'auto' ? ['--backend', backend] : []),
  ].join(' ');
  const dir = mkdtempSync(join(tmpdir(), 'flexq-quality-'));
  const began = performance.now();
  const rows: (string | number)[][] = [];
  const notRun: { label: string; command: string }[] = [];
  try {
    for (const m of chosen)
      for (const r of m.rows)
        for (const iters of r.method === 'rtn' ? [0] : iterCounts) {
          const label = `${m.name} W${r.wbits}A${r.abits} ${r.method} ${r.granularity}${r.granularity === 'block' ? ` ${r.setting}` : ''}`;
          if (only && !label.includes(only)) continue;
          const scales = perChannel && perChannelMethods.includes(r.method) ? 'per-channel' : 'per-tensor';
          const point = [m.name, `W${r.wbits}A${r.abits}`, r.method, scales, r.granularity === 'block' ? `block, ${r.setting}` : 'layer', r.method === 'rtn' ? '—' : iters];
          const top1: number[] = [];
          // RTN draws nothing at random: one seed is all of it.
          for (const seed of r.method === 'rtn' ? seeds.slice(0, 1) : seeds) {
            const cells = [...point, seed];
            if ((performance.now() - began) / 1000 >= maxSeconds) {
              const command = `npm run bench -- quality --models ${m.key} --only '${label}'${r.method === 'rtn' ? '' : ` --iters ${iters}`}${seed !== 0 ? ` --seed ${seed}` : ''}${common ? ` ${common}` : ''}`;
              notRun.push({ label: `${label}${r.method === 'rtn' ? '' : `, ${iters} iterations`}, seed ${seed}`, command });
              rows.push([...cells, '—', 'not run', '—', '—', '—', '—']);
              continue;
            }
            const fq = join(dir, 'q.fq');
            const loadBefore = loadavg()[0];
            const start = performance.now();
            const cpuStart = process.cpuUsage();
            const q = await quantize(m.file, {
              calib: m.calib.path, labels: m.calib.labels, limit: m.calib.limit, offset: m.calib.offset, preprocess: m.preprocess, batch: 32,
              method: r.method, wbits: r.wbits, abits: r.abits, seed, observer: 'minmax', weightScales: scales, samples,
              granularity: r.granularity, setting: r.setting, iters, lr, lrSchedule, backend,
            });
            writeFq(fq, q);
            const seconds = (performance.now() - start) / 1000;
            const cpu = process.cpuUsage(cpuStart);
            const load = (loadBefore + loadavg()[0]) / 2;
            const acc = await evaluate(fq, { data: m.test.path, labels: m.test.labels, limit: m.test.limit, offset: m.test.offset, preprocess: m.preprocess, batch: 50 });
            process.stderr.write(`quality: ${label}${r.method === 'rtn' ? '' : `, ${iters} iterations`}, seed ${seed}: top-1 ${(100 * acc.top1).toFixed(2)} % (N=${acc.count}), quantized in ${seconds.toFixed(0)} s at load ${load.toFixed(1)}\n`);
            rows.push([...cells, q.info.calibrationSamples, 100 * acc.top1, acc.count, seconds, (cpu.user + cpu.system) / 1e6, load]);
            top1.push(100 * acc.top1);
          }
          if (seeds.length > 1 && top1.length === seeds.length) {
            rows.push([...point, `mean of ${seeds.length}`, '', top1.reduce((a, b) => a + b, 0) / top1.length, '', '', '', '']);
          }
        }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    title: `Top-1 % on held-out data: ${perChannel ? 'per-channel weights (RTN, FlexRound)' : 'per-tensor weights'}, first/last layer 8-bit, seed ${seeds.join(', ')}, batch 32, --backend ${backend}`,
    columns: ['model', 'bits', 'method', 'weights', 'granularity', 'iters', 'seed', 'calib N', 'top-1 %', 'N', 'quantize s', 'CPU s', 'load avg'],
    rows,
    notes: [
      'ResNet-8: calib cifar10/calib-1024 (all 1024), test cifar10/test-200; DS-CNN: calib kws first 500, test kws last 500; MobileNetV2: calib imagenet-sample first 500 (or the first --samples of them), test the other 500.',
      `Learning rate: ${lr ?? "flexq's default for the budget: FlexRound max(paper's 4e-4 / 1e-3 at 2 bits, 1/iterations), × 2^(4 − bits) above 4 bits; AdaRound max(1e-3, 3/iterations); AdaQuant 1e-4"}, ${lrSchedule ?? DEFAULT_LR_SCHEDULE} schedule. Activations: minmax-calibrated, LSQ-learned during reconstruction.`,
      `Load average is the mean of the 1-minute figure before and after quantizing, on ${cpus().length} cores; CPU s counts every thread of the process.`,
      ...notRun.map((n) => `Not run (--max-minutes spent): ${n.label}: \`${n.command}\``),
    ],
    extra: { notRun },
  };
}
