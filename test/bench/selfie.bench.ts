/**
 * `npm run bench -- selfie [--eval N] [--calib N] [--only TEXT]`: MediaPipe Selfie Segmentation's mask IoU against
 * the float model, per quantization setting: calibrated on the first `--calib` photos of imagenet-sample (default
 * 64), evaluated on `--eval` photos from offset 500 (default 200), which calibration never saw; runtime mode
 * tflite-double (W8A32 rows run the float executor on the dequantized weights). `--only RTN` leaves out the FlexRound row
 * (about 30 minutes).
 */
import { quantize, validate, type ActivationBits } from '../../src/index.js';
import type { ObserverKind } from '../../calibration/observers.js';
import { data, model } from '../helpers/shared.js';
import type { BenchResult } from './table.js';

interface Row {
  readonly name: string;
  readonly abits: ActivationBits;
  readonly observer: ObserverKind;
  readonly biasCorrection?: boolean;
  readonly equalize?: boolean;
  /** FlexRound, block-wise with QDrop, this many iterations per unit (activation steps learned too); else RTN. */
  readonly flexroundIters?: number;
}

const ROWS: readonly Row[] = [
  { name: 'W8A32 per-channel RTN', abits: 32, observer: 'minmax' },
  { name: 'W8A8 per-channel RTN, minmax', abits: 8, observer: 'minmax' },
  { name: 'W8A8 per-channel RTN, mse', abits: 8, observer: 'mse' },
  { name: 'W8A8 per-channel RTN, percentile', abits: 8, observer: 'percentile' },
  { name: 'W8A32 per-channel RTN, bias correction', abits: 32, observer: 'minmax', biasCorrection: true },
  { name: 'W8A8 per-channel RTN, percentile, bias correction', abits: 8, observer: 'percentile', biasCorrection: true },
  { name: 'W8A8 per-channel RTN, percentile, equalized', abits: 8, observer: 'percentile', equalize: true },
  { name: 'W8A8 per-channel RTN, percentile, equalized, bias correction', abits: 8, observer: 'percentile', equalize: true, biasCorrection: true },
  // About 30 minutes on 2 cores.
  { name: 'W8A8 per-channel FlexRound block-wise QDrop 100 iterations, percentile', abits: 8, observer: 'percentile', flexroundIters: 100 },
];

function flag(args: readonly string[], name: string): string | undefined {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
}

export default async function selfie(args: string[]): Promise<BenchResult> {
  const evalCount = Number(flag(args, '--eval') ?? 200);
  const calibCount = Number(flag(args, '--calib') ?? 64);
  const only = flag(args, '--only');
  const file = model('mediapipe-selfie-segmentation/model.tflite');
  const photos = { preprocess: 'mediapipe-selfie' as const };
  const rows: (string | number)[][] = [];
  for (const row of ROWS.filter((r) => only === undefined || r.name.includes(only))) {
    const learned = row.flexroundIters === undefined ? { method: 'rtn' as const } : { method: 'flexround' as const, granularity: 'block' as const, setting: 'qdrop' as const, iters: row.flexroundIters };
    const q = await quantize(file, { ...photos, calib: data('imagenet-sample'), limit: calibCount, ...learned, weightScales: 'per-channel', abits: row.abits, observer: row.observer, biasCorrection: row.biasCorrection, equalize: row.equalize });
    const report = await validate(file, q, {
      ...photos,
      data: data('imagenet-sample'),
      offset: 500,
      limit: evalCount,
      modes: ['tflite-double'],
      executors: [row.abits === 32 ? 'float' : 'runtime'],
      task: 'segmentation',
    });
    const e = report.executors[0];
    const s = e.segmentation!;
    rows.push([row.name, s.maskIou, s.pooledMaskIou, `${s.largeMaskIou.toFixed(3)} (${s.largeMaskCount})`, `${s.emptyMaskKept} of ${s.emptyMaskCount}`, e.output.sqnrDb]);
  }
  return {
    title: `Selfie Segmentation mask IoU vs float (p > 0.5), ${evalCount} held-out photos, calibration on ${calibCount}`,
    columns: ['setting', 'mean IoU', 'pooled IoU', 'IoU, float mask ≥ 5 % (n)', 'empty float masks kept empty', 'output SQNR dB'],
    rows,
    notes: ['mean IoU counts 1 for an image where both masks are empty, 0 where only one is; pooled IoU is over all pixels of all images.'],
  };
}
