// suggest-bits: per-layer weight bits that fit a budget of weight bytes with the least predicted loss. Each layer is
// scored alone at every width (RTN weights, the rest float, activations float); the knapsack (quant/bit-plan.ts)
// adds those losses up; the chosen plan is then measured the same way. PLAN.json carries the bits to quantize --bits.
import { existsSync, readFileSync } from 'node:fs';
import { fail } from '../errors.js';
import { writeFileAtomic } from '../fs-atomic.js';
import { dequantizeWeight } from '../ir/quantized-graph.js';
import { chooseBits } from '../quant/bit-plan.js';
import { quantizeWeightRtn } from '../quant/weight-grid.js';
import type { WeightedLayer } from '../quant/layers.js';
import { metricOf, type BlameReport, type WeightScore, type WeightScorer } from './blame.js';
import { silentProgress, type JobHooks } from './progress.js';
import { WEIGHT_BITS, type WeightBits } from './quantize.js';

export interface PlannedLayer {
  readonly layer: string;
  readonly params: number;
  readonly bits: WeightBits;
  /** The layer alone at each width (the rest float), by bits. */
  readonly alone: Record<string, WeightScore>;
}

export interface BitPlanReport {
  readonly budgetKb: number;
  /** Packed weight bytes of the plan. */
  readonly bytes: number;
  readonly layers: PlannedLayer[];
  /** Float score minus the sum of each chosen layer's loss alone (top-1), or the summed noise's SQNR. */
  readonly predicted: WeightScore;
  /** The plan's RTN weights scored together on the same data. */
  readonly measured: WeightScore;
}

const BIT_PLAN_FORMAT = 'flexq-bit-plan/1';

/** What PLAN.json holds: the bits of each weighted layer, by node name. */
export interface BitPlanFile {
  readonly format: typeof BIT_PLAN_FORMAT;
  readonly model: string;
  readonly budgetKb: number;
  readonly bits: Record<string, WeightBits>;
}

/** Bytes of `params` weights packed at `bits` each. */
export const packedBytes = (params: number, bits: number) => Math.ceil((params * bits) / 8);

function rtnValues(layer: WeightedLayer, scorer: WeightScorer, weights: ReadonlyMap<string, Float32Array>, bits: number): Float32Array {
  const w = weights.get(layer.weight)!;
  return dequantizeWeight(quantizeWeightRtn(w, scorer.graph.values.get(layer.weight)!.shape as number[], bits));
}

export async function suggestBits(scorer: WeightScorer, blame: BlameReport, budgetKb: number, o: JobHooks): Promise<BitPlanReport> {
  const weights = new Map(scorer.layers.map((l) => [l.weight, scorer.graph.values.get(l.weight)!.data as Float32Array]));
  const progress = (o.progress ?? silentProgress)('suggest-bits', scorer.layers.length * WEIGHT_BITS.length + 1);
  const scored: Omit<PlannedLayer, 'bits'>[] = [];
  for (const layer of scorer.layers) {
    const alone: Record<string, WeightScore> = {};
    for (const bits of WEIGHT_BITS) {
      alone[bits] = await scorer.score(new Map([[layer.weight, rtnValues(layer, scorer, weights, bits)]]));
      progress.advance(1);
    }
    scored.push({ layer: layer.node.name, params: weights.get(layer.weight)!.length, alone });
  }
  // Output noise adds up over layers (each alone: noise/signal = 10^(−SQNR/10)); the knapsack minimises its sum.
  const noise = (s: WeightScore) => 10 ** (-Math.min(s.sqnrDb, 300) / 10);
  const chosen = chooseBits(
    scored.map((l) => ({ layer: l.layer, choices: WEIGHT_BITS.map((bits) => ({ bits, bytes: packedBytes(l.params, bits), loss: noise(l.alone[bits]) })) })),
    budgetKb * 1024,
  );
  const layers = scored.map((l) => ({ ...l, bits: chosen.get(l.layer) as WeightBits }));
  const measured = await scorer.score(new Map(scorer.layers.map((l, k) => [l.weight, rtnValues(l, scorer, weights, layers[k].bits)])));
  progress.advance(1);
  progress.finish();
  const totalNoise = layers.reduce((sum, l) => sum + noise(l.alone[l.bits]), 0);
  const predicted: WeightScore = {
    ...(blame.metric === 'top1' ? { top1: Math.max(0, metricOf(blame.float, 'top1') - layers.reduce((sum, l) => sum + Math.max(0, blame.float.top1! - l.alone[l.bits].top1!), 0)) } : {}),
    sqnrDb: totalNoise === 0 ? Infinity : -10 * Math.log10(totalNoise),
  };
  return { budgetKb, bytes: layers.reduce((sum, l) => sum + packedBytes(l.params, l.bits), 0), layers, predicted, measured };
}

/** Fails unless `path` is free or holds a flexq bit plan (checked before the work, and again when writing). */
export function checkBitPlanPath(path: string): void {
  if (existsSync(path)) {
    let format: unknown;
    try {
      format = (JSON.parse(readFileSync(path, 'utf8')) as { format?: unknown }).format;
    } catch {
      format = undefined;
    }
    if (format !== BIT_PLAN_FORMAT) fail('OUTPUT_REFUSED', `${path}: exists and is not a flexq bit plan; choose another path for the plan (--suggest-bits FILE) or move the file away`);
  }
}

/** Writes PLAN.json atomically; a file there that is not a flexq bit plan is never replaced. */
export function writeBitPlan(path: string, model: string, plan: BitPlanReport): void {
  checkBitPlanPath(path);
  const file: BitPlanFile = { format: BIT_PLAN_FORMAT, model, budgetKb: plan.budgetKb, bits: Object.fromEntries(plan.layers.map((l) => [l.layer, l.bits])) };
  writeFileAtomic(path, JSON.stringify(file, null, 2) + '\n');
}

/** Reads PLAN.json: the bits of each layer, each one of 8, 4, 3, 2. */
export function readBitPlan(path: string): ReadonlyMap<string, WeightBits> {
  if (!existsSync(path)) fail('FILE_NOT_FOUND', `${path}: no such bit plan; write one with flexq validate … --suggest-bits ${path} --budget-kb N`);
  let file: Partial<BitPlanFile>;
  try {
    file = JSON.parse(readFileSync(path, 'utf8')) as Partial<BitPlanFile>;
  } catch (e) {
    fail('BAD_ARGUMENT', `${path}: not JSON (${(e as Error).message}); expected a bit plan written by flexq validate --suggest-bits`);
  }
  if (file.format !== BIT_PLAN_FORMAT || typeof file.bits !== 'object' || file.bits === null)
    fail('BAD_ARGUMENT', `${path}: expected a bit plan (format ${BIT_PLAN_FORMAT}, bits by layer), found format ${String(file.format)}`);
  for (const [layer, bits] of Object.entries(file.bits))
    if (!WEIGHT_BITS.includes(bits)) fail('BAD_ARGUMENT', `${path}: layer '${layer}' has ${String(bits)} bits; expected one of ${WEIGHT_BITS.join(', ')}`);
  return new Map(Object.entries(file.bits));
}
