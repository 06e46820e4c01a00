// One fuzz case: a seeded mutation of a valid file, run through the real code path in-process.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openDataset } from '../../calibration/index.js';
import type { DataSpec } from '../../calibration/types.js';
import { FlexqError } from '../../src/errors.js';
import { detectFormat } from '../../src/import/index.js';
import { importOnnx } from '../../src/import/onnx/import-onnx.js';
import { importTflite } from '../../src/import/tflite/import-tflite.js';
import type { Graph } from '../../src/ir/graph.js';
import { firstNonFinite, shapeProblem } from '../../src/ir/limits.js';
import { formatShape, isStatic, sizeOf } from '../../src/ir/shape.js';
import { verifyGraph } from '../../src/ir/verify.js';
import { summarizeModel } from '../../src/model-summary.js';
import { optimizeGraph } from '../../src/passes/pipeline.js';
import { decodeFq } from '../../src/quant/fq-file.js';
import type { Bases } from './bases.js';
import { mutateFq, mutateImage, mutateNpy, mutateTflite } from './mutate-files.js';
import { mutateOnnx } from './mutate-onnx.js';
import { Rng } from './random.js';

export const KINDS = ['onnx', 'tflite', 'fq', 'npy', 'image'] as const;
export type FuzzKind = (typeof KINDS)[number];
/** Which kind case i is: onnx, tflite and .fq get most cases; data loaders (slower, simpler parsers) fewer. */
const SCHEDULE: readonly FuzzKind[] = ['onnx', 'tflite', 'fq', 'onnx', 'tflite', 'fq', 'npy', 'image', 'onnx', 'fq'];
export const kindOf = (index: number): FuzzKind => SCHEDULE[index % SCHEDULE.length];

export type Outcome = 'error' | 'ok' | 'internal' | 'timeout';

export interface CaseResult {
  readonly index: number;
  readonly kind: FuzzKind;
  readonly outcome: Outcome;
  /** What was mutated: the base file and the edit. */
  readonly label: string;
  /** The FlexqError's code, or the other exception's name. */
  readonly code?: string;
  readonly message?: string;
  readonly ms: number;
}

/**
 * What every accepted graph must be, checked so a mutation that slips through validation counts as a failure:
 * the verifier's invariants, every shape within the limits (no NaN or negative dims), every constant as long as its
 * shape and finite.
 */
function checkSound(graph: Graph, when: string): void {
  const problems = verifyGraph(graph);
  for (const v of graph.values.values()) {
    const shapeIssue = shapeProblem(v.shape);
    if (shapeIssue) problems.push(`value '${v.name}': ${shapeIssue}`);
    else if (v.data && (!isStatic(v.shape) || sizeOf(v.shape) !== v.data.length)) problems.push(`constant '${v.name}' ${formatShape(v.shape)} holds ${v.data.length} values`);
    else if (v.data && firstNonFinite(v.data) >= 0) problems.push(`constant '${v.name}' holds ${v.data[firstNonFinite(v.data)]}`);
  }
  if (graph.inputs.length === 0 || graph.outputs.length === 0) problems.push('no graph inputs or outputs');
  if (problems.length > 0) throw new Error(`unsound graph ${when}: ${problems.slice(0, 3).join('; ')}`);
}

/** Import → passes → summary, as `flexq inspect` and `quantize` start; the graph must be sound before and after the passes. */
function runModel(bytes: Uint8Array, source: string): void {
  const imported = detectFormat(bytes) === 'tflite' ? importTflite(bytes, source) : importOnnx(bytes, source);
  checkSound(imported, 'after import');
  const graph = optimizeGraph(imported);
  summarizeModel(imported);
  summarizeModel(graph);
  checkSound(graph, 'after the passes');
}

async function readAll(spec: DataSpec): Promise<void> {
  for await (const batch of (await openDataset(spec)).batches(2)) void batch;
}

/** Builds case `index` of run `seed` and runs it; the label says how to rebuild it. */
async function execute(bases: Bases, seed: number, index: number, dir: string, describe: (label: string) => void): Promise<void> {
  const rng = new Rng(seed, index);
  const kind = kindOf(index);
  switch (kind) {
    case 'onnx':
    case 'tflite': {
      const base = rng.pick(kind === 'onnx' ? bases.onnx : bases.tflite);
      const m = kind === 'onnx' ? mutateOnnx(base.bytes, rng) : mutateTflite(base.bytes, rng);
      describe(`${base.name}: ${m.label}`);
      runModel(m.bytes, `fuzz-${index}.${kind}`);
      return;
    }
    case 'fq': {
      const base = rng.pick(bases.fq);
      const m = mutateFq(base.bytes, rng);
      describe(`${base.name}: ${m.label}`);
      const q = decodeFq(m.bytes, `fuzz-${index}.fq`);
      checkSound(q.graph, 'after decodeFq');
      summarizeModel(q.graph);
      return;
    }
    case 'npy': {
      const mutateLabels = rng.chance(0.2);
      const m = mutateNpy(mutateLabels ? bases.npy.labels : bases.npy.data, rng);
      const data = join(dir, 'data.npy');
      const labels = join(dir, 'labels.npy');
      writeFileSync(data, mutateLabels ? bases.npy.data : m.bytes);
      writeFileSync(labels, mutateLabels ? m.bytes : bases.npy.labels);
      const layout = rng.pick(['nchw', 'nhwc'] as const);
      describe(`${mutateLabels ? 'labels' : 'data'}.npy: ${m.label}, layout ${layout}`);
      await readAll({ path: data, labels: rng.chance(0.5) || mutateLabels ? labels : undefined, preprocess: 'none', layout, sampleShape: bases.npy.sampleShape });
      return;
    }
    case 'image': {
      const jpeg = rng.chance(0.5);
      const m = mutateImage(jpeg ? bases.jpeg : bases.png, rng);
      for (const cls of ['a', 'b']) mkdirSync(join(dir, 'images', cls), { recursive: true });
      writeFileSync(join(dir, 'images', 'a', jpeg ? 'x.jpg' : 'x.png'), m.bytes);
      writeFileSync(join(dir, 'images', 'b', 'y.png'), bases.png);
      const preprocess = rng.pick(['none', 'unit', 'imagenet'] as const);
      const sampleShape = preprocess === 'imagenet' ? [3, 224, 224] : rng.pick([[3, 16, 16], [1, 16, 16]]);
      describe(`${jpeg ? 'jpeg' : 'png'}: ${m.label}, --preprocess ${preprocess}`);
      await readAll({ path: join(dir, 'images'), preprocess, sampleShape });
    }
  }
}

/** Runs case `index`: a FlexqError is a clear error, any other exception an internal one (with its stack's top). */
export async function runCase(bases: Bases, seed: number, index: number, dir: string): Promise<CaseResult> {
  const kind = kindOf(index);
  const caseDir = join(dir, `case-${index}`);
  mkdirSync(caseDir, { recursive: true });
  const start = performance.now();
  let label = `(case ${index}: the mutation itself failed)`;
  const done = (r: Omit<CaseResult, 'index' | 'kind' | 'label' | 'ms'>): CaseResult => ({ index, kind, label, ms: performance.now() - start, ...r });
  try {
    await execute(bases, seed, index, caseDir, (l) => (label = l));
    return done({ outcome: 'ok' });
  } catch (e) {
    if (e instanceof FlexqError) return done({ outcome: 'error', code: e.code, message: e.message });
    const err = e instanceof Error ? e : new Error(String(e));
    const where = (err.stack ?? '').split('\n').slice(1, 4).map((l) => l.trim()).join(' < ');
    return done({ outcome: 'internal', code: err.name, message: `${err.message} at ${where}` });
  } finally {
    rmSync(caseDir, { recursive: true, force: true });
  }
}
