/**
 * `npm run bench -- selfie [--eval N] [--calib N] [--only TEXT]`: MediaPipe Selfie Segmentation's mask IoU against
 * the float model, per quantization setting: calibrated on the first `--calib` photos of imagenet-sample (default
 * 64), evaluated on `--eval` photos from offset 500 (default 200), which calibration never saw; runtime mode
 * tflite-double (W8A32 rows run the float executor on the dequantized weights). `--only RTN` leaves out the FlexRound row
 * (about 30 minutes). `--only sensitivity` runs only the rows that measure the float model itself: every weight rounded
 * onto a per-channel max-abs grid of 8, 10 and 12 bits (and 8 bits clipped to 90 % of the max), activations float.
 */
import { quantize, validate, type ActivationBits } from '../../src/index.js';
import type { ObserverKind } from '../../calibration/observers.js';
import { openData, readAllSamples, sampleShapeOf } from '../../src/api/data.js';
import { createFloatExecutor } from '../../src/exec/float-executor.js';
import type { Graph } from '../../src/ir/graph.js';
import { loadModel } from '../../src/load-model.js';
import { AgreementAccumulator } from '../../src/metrics.js';
import { weightedLayers } from '../../src/quant/layers.js';
import { sizeOf } from '../../src/ir/shape.js';
import { MaskIouAccumulator, type SegmentationStats } from '../../src/task-metrics.js';
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

/** Photos per float-executor run in the sensitivity rows. */
const BATCH = 32;

/** Weight precisions the sensitivity rows round the float model's weights to: bits, and the grid's share of max|w|. */
const SENSITIVITY: readonly { readonly bits: number; readonly clip: number }[] = [
  { bits: 8, clip: 1 },
  { bits: 10, clip: 1 },
  { bits: 12, clip: 1 },
  { bits: 8, clip: 0.9 },
];

/** The float graph with every weight rounded onto a symmetric grid per output channel (axis 0 of a Conv), clip·max|w| wide. */
function roundedWeights(graph: Graph, bits: number, clip: number): Graph {
  const values = new Map(graph.values);
  const qmax = 2 ** (bits - 1) - 1;
  for (const layer of weightedLayers(graph)) {
    const w = graph.values.get(layer.weight)!;
    const data = w.data as Float32Array;
    const channels = layer.node.op === 'Conv' ? (w.shape[0] as number) : 1;
    const inner = data.length / channels;
    const rounded = new Float32Array(data.length);
    for (let c = 0; c < channels; c++) {
      const row = data.subarray(c * inner, (c + 1) * inner);
      const step = (clip * row.reduce((m, v) => Math.max(m, Math.abs(v)), 0)) / qmax || 1;
      row.forEach((v, i) => (rounded[c * inner + i] = step * Math.min(qmax, Math.max(-qmax - 1, Math.round(v / step)))));
    }
    values.set(layer.weight, { ...w, data: rounded });
  }
  return { ...graph, values };
}

/** How far the float model's mask moves when only its weights are rounded, at several precisions (no activation grids). */
async function sensitivityRows(file: string, evalCount: number, only: string | undefined): Promise<(string | number)[][]> {
  const name = ({ bits, clip }: (typeof SENSITIVITY)[number]) =>
    `sensitivity: float model, weights per-channel ${bits}-bit${clip < 1 ? `, grid clipped to ${100 * clip} % of max|w|` : ''}, activations float`;
  const chosen = SENSITIVITY.filter((r) => only === undefined || name(r).includes(only));
  if (chosen.length === 0) return [];
  const { graph } = loadModel(file);
  const shape = sampleShapeOf(graph, file);
  const photos = await openData(data('imagenet-sample'), { preprocess: 'mediapipe-selfie', offset: 500, limit: evalCount }, shape);
  const x = await readAllSamples(photos);
  const perSample = x.length / photos.size;
  const perOutput = sizeOf(graph.values.get(graph.outputs[0])!.shape.slice(1) as number[]);
  /** The output for every photo, back to back, run BATCH photos at a time. */
  const run = async (g: Graph): Promise<Float32Array> => {
    const executor = await createFloatExecutor(g);
    try {
      const out = new Float32Array(photos.size * perOutput);
      for (let at = 0; at < photos.size; at += BATCH) {
        const n = Math.min(BATCH, photos.size - at);
        const input = { shape: [n, ...shape], data: x.subarray(at * perSample, (at + n) * perSample) };
        out.set(executor.run({ [graph.inputs[0]]: input }).get(graph.outputs[0])!.data, at * perOutput);
      }
      return out;
    } finally {
      executor.dispose();
    }
  };
  const reference = await run(graph);
  const rows: (string | number)[][] = [];
  for (const r of chosen) {
    const out = await run(roundedWeights(graph, r.bits, r.clip));
    const masks = new MaskIouAccumulator();
    masks.add(reference, out, photos.size);
    const agreement = new AgreementAccumulator();
    agreement.add(reference, out);
    rows.push(segmentationRow(name(r), masks.stats(), agreement.stats().sqnrDb));
  }
  return rows;
}

/** A table row: the setting, then how its masks and output compare with the float model's. */
function segmentationRow(name: string, s: SegmentationStats, sqnrDb: number): (string | number)[] {
  return [name, s.maskIou, s.pooledMaskIou, `${s.largeMaskIou.toFixed(3)} (${s.largeMaskCount})`, `${s.emptyMaskKept} of ${s.emptyMaskCount}`, sqnrDb];
}

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
    rows.push(segmentationRow(row.name, e.segmentation!, e.output.sqnrDb));
  }
  rows.push(...(await sensitivityRows(file, evalCount, only)));
  return {
    title: `Selfie Segmentation mask IoU vs float (p > 0.5), ${evalCount} held-out photos, calibration on ${calibCount}`,
    columns: ['setting', 'mean IoU', 'pooled IoU', 'IoU, float mask ≥ 5 % (n)', 'empty float masks kept empty', 'output SQNR dB'],
    rows,
    notes: ['mean IoU counts 1 for an image where both masks are empty, 0 where only one is; pooled IoU is over all pixels of all images.'],
  };
}
