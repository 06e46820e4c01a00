/**
 * `npm run bench -- quality [--iters N] [--models resnet8,dscnn,mobilenetv2] [--only TEXT] [--backend KIND]`: the
 * accuracy table of the reconstruction issue (on a GPU host, `--models mobilenetv2 --backend webgpu --iters 5000`
 * is the paper's MobileNetV2 setting, less its 1024 samples: imagenet-sample's 1000 images are half held out). Every row quantizes with flexq's own pipeline (first and last layer 8-bit, seed 0)
 * on the calibration split and evaluates on data calibration never saw:
 * ResNet-8: calibrate on cifar10/calib-1024, evaluate on cifar10/test-200; DS-CNN: first / last 500 of kws;
 * MobileNetV2 (W4A32, RTN vs FlexRound): first / last 500 of imagenet-sample.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Preprocess } from '../../calibration/index.js';
import { BACKEND_KINDS, type BackendKind } from '../../src/backend/select.js';
import { evaluate, quantize, QUANT_METHODS, type ActivationBits, type QuantMethod, type WeightBits } from '../../src/index.js';
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
    rows: (['rtn', 'flexround'] as const).map((method) => ({ wbits: 4, abits: 32, method, granularity: 'layer', setting: 'brecq' })),
  },
};

export default async function quality(args: string[]): Promise<BenchResult> {
  const option = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
  const iters = Number(option('--iters') ?? 1000);
  const only = option('--only');
  const backend = (option('--backend') ?? 'auto') as BackendKind;
  if (!BACKEND_KINDS.includes(backend)) throw new Error(`--backend ${backend}: expected one of ${BACKEND_KINDS.join(', ')}`);
  const chosen = (option('--models') ?? 'resnet8,dscnn,mobilenetv2').split(',').map((m) => {
    if (!MODELS[m]) throw new Error(`--models ${m}: expected some of ${Object.keys(MODELS).join(', ')}`);
    return MODELS[m];
  });
  const dir = mkdtempSync(join(tmpdir(), 'flexq-quality-'));
  const rows: (string | number)[][] = [];
  try {
    for (const m of chosen)
      for (const r of m.rows) {
        const label = `${m.name} W${r.wbits}A${r.abits} ${r.method} ${r.granularity}${r.granularity === 'block' ? ` ${r.setting}` : ''}`;
        if (only && !label.includes(only)) continue;
        const fq = join(dir, 'q.fq');
        const start = performance.now();
        const q = await quantize(m.file, {
          calib: m.calib.path, labels: m.calib.labels, limit: m.calib.limit, offset: m.calib.offset, preprocess: m.preprocess, batch: 32,
          method: r.method, wbits: r.wbits, abits: r.abits, seed: 0, observer: 'minmax',
          granularity: r.granularity, setting: r.setting, iters, backend,
        });
        writeFq(fq, q);
        const seconds = (performance.now() - start) / 1000;
        const acc = await evaluate(fq, { data: m.test.path, labels: m.test.labels, limit: m.test.limit, offset: m.test.offset, preprocess: m.preprocess, batch: 50 });
        const row = [m.name, `W${r.wbits}A${r.abits}`, r.method, r.granularity === 'block' ? `block, ${r.setting}` : 'layer', r.method === 'rtn' ? '—' : iters, 100 * acc.top1, acc.count, seconds];
        process.stderr.write(`quality: ${label}: top-1 ${(100 * acc.top1).toFixed(2)} % (N=${acc.count}), quantized in ${seconds.toFixed(0)} s\n`);
        rows.push(row);
      }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    title: `Top-1 % on held-out data: per-tensor weights, first/last layer 8-bit, seed 0, ${iters} iterations per layer/block, batch 32, --backend ${backend}`,
    columns: ['model', 'bits', 'method', 'granularity', 'iters', 'top-1 %', 'N', 'quantize s'],
    rows,
    notes: [
      'ResNet-8: calib cifar10/calib-1024 (all 1024), test cifar10/test-200; DS-CNN: calib kws first 500, test kws last 500; MobileNetV2: calib imagenet-sample first 500, test the other 500.',
      'Learning rate (flexq\'s default for the budget): FlexRound max(paper\'s 4e-4 / 1e-3 at 2 bits, 1/iterations); AdaRound max(1e-3, 3/iterations); AdaQuant 1e-4. Activations: minmax-calibrated, LSQ-learned during reconstruction.',
    ],
  };
}
