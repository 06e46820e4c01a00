// validate: the float model and integer executors on the same data: accuracy, top-1 agreement with float,
// per-layer SQNR / cosine / max |err| and error histogram, float-vs-int top-1 confusion, time per sample, and how many
// output elements differ between each pair of executors; optionally blame per layer, a bit plan, and a deployment.
import { fail, FlexqError } from '../errors.js';
import { producers } from '../ir/graph.js';
import { formatShape, sizeOf } from '../ir/shape.js';
import { loadModel } from '../load-model.js';
import { AgreementAccumulator, argmaxRows, ErrorHistogram, type AgreementStats } from '../metrics.js';
import { DetectionAccumulator, MaskIouAccumulator, TASKS, type DetectionStats, type DetectorOutputs, type SegmentationStats, type Task } from '../task-metrics.js';
import type { Graph } from '../ir/graph.js';
import { alignNames } from '../ir/align-names.js';
import type { QuantizedGraph } from '../ir/quantized-graph.js';
import { REQUANT_MODES, type RequantMode } from '../quant/requant-mode.js';
import type { BatchExecutor, ForeignArtefact } from '../target.js';
import { blameLayers, weightScorer, type BlameReport } from './blame.js';
import { packedBytes, suggestBits, type BitPlanReport } from './bit-plan.js';
import { deployments, type DeploymentReport } from './deployment.js';
import { DEFAULT_BATCH, openData, sampleShapeOf, type DataOptions } from './data.js';
import { checkMode, defaultExecutor, floatExecutor, openArtefact, type Artefact } from './executors.js';
import { silentProgress, type JobHooks } from './progress.js';
import { BUILT_IN_EXECUTORS, executorNames } from './registry.js';

/** The widest classifier output whose float-vs-int confusion matrix is kept (ImageNet's 1001 classes fit). */
const MAX_CONFUSION_CLASSES = 4096;

export interface ValidateOptions extends DataOptions, JobHooks {
  readonly data: string;
  /** Integer runtime modes to run; default all. */
  readonly modes?: readonly RequantMode[] | 'all';
  /** Integer executors to compare; default ['runtime'], and litert first for an int8 .tflite another tool made; 'all' is every one this machine can run. */
  readonly executors?: readonly string[] | 'all';
  /** Also measure what quantizing each layer alone costs and keeping it float regains (blame.ts). */
  readonly blame?: boolean;
  /** Also suggest per-layer weight bits that fit this many KiB of weights (implies blame; bit-plan.ts). */
  readonly budgetKb?: number;
  /** Also build and prove each compiled target of an executor compared (e.g. qemu-m4): flash, arena, instructions. */
  readonly deployment?: boolean;
  /** What the outputs are, for unlabelled comparisons: segmentation (mask IoU) or detection (top score and box); default classification. */
  readonly task?: Task;
}

export interface LayerReport extends AgreementStats {
  readonly value: string;
  readonly op: string;
  readonly shape: string;
  /** Counts of (int − float) in steps of the layer's grid, ERROR_HISTOGRAM's bins (none for a value without a grid). */
  readonly errorHistogram: number[];
}

export interface ExecutorReport {
  readonly executor: string;
  readonly top1?: number;
  /** Fraction of samples whose top-1 class equals the float model's. */
  readonly top1Agreement: number;
  readonly output: AgreementStats;
  /** SQNR, cosine and max |err| of every graph output, by name. */
  readonly outputs: Record<string, AgreementStats>;
  readonly segmentation?: SegmentationStats;
  readonly detection?: DetectionStats;
  readonly layers: LayerReport[];
  /** confusion[f][c]: samples the float model called f and this executor c; empty past MAX_CONFUSION_CLASSES classes. */
  readonly confusion: number[][];
  /** Wall time per sample on this machine (whole batches, every requested layer read back). */
  readonly msPerSample: number;
}

export interface ValidateReport {
  readonly model: string;
  readonly quantized: string;
  /** Who made the quantized model: flexq (a .fq), or another tool (an int8 .tflite or .onnx, imported into flexq's graph to run in the integer runtime). */
  readonly artefact: 'fq' | ForeignArtefact['format'];
  /** Bytes of the weights packed at their bits (biases and activations aside): the size the artefacts are compared by. */
  readonly weightBytes: number;
  readonly data: string;
  readonly count: number;
  readonly task: Task;
  readonly floatTop1?: number;
  readonly floatMsPerSample: number;
  readonly quantization: Pick<QuantizedGraph['info'], 'method' | 'wbits' | 'abits'>;
  readonly executors: ExecutorReport[];
  /** Output elements that differ between each pair of integer executors (0 = bit-exact with each other). */
  readonly mismatches: Record<string, Record<string, number>>;
  readonly blame?: BlameReport;
  readonly plan?: BitPlanReport;
  readonly deployments?: DeploymentReport[];
}

/** A quantized artefact: a .fq (or a QuantizedGraph in memory), or an int8 model another tool made. */
type QuantizedArtefact = Exclude<Artefact, { kind: 'model' }>;

/** The executor with per-layer figures (the most layers; a runtime of a file as it is, such as litert, has only the outputs). */
export function layeredExecutor(r: ValidateReport): ExecutorReport | undefined {
  return r.executors.reduce<ExecutorReport | undefined>((best, e) => (e.layers.length > (best?.layers.length ?? -1) ? e : best), undefined);
}

/** The integer executors' names the options ask for (default: the runtime, after its own runtime for a foreign model). */
function executorsAsked(o: ValidateOptions, a: QuantizedArtefact): string[] {
  const integer = executorNames().filter((n) => n !== BUILT_IN_EXECUTORS[0]);
  const names = o.executors === 'all' ? integer : [...(o.executors ?? (a.kind === 'foreign' ? ['litert', 'runtime'] : ['runtime']))];
  // float runs the dequantized weights: the one executor of a weights-only .fq.
  for (const n of names) if (!executorNames().includes(n)) fail('BAD_ARGUMENT', `executor '${n}': expected some of ${executorNames().join(', ')}, or all`);
  return names;
}

/** The integer executors to compare: the runtime once per mode, every other executor once. */
async function openExecutors(a: QuantizedArtefact, o: ValidateOptions): Promise<BatchExecutor[]> {
  const all = o.executors === 'all';
  const names = executorsAsked(o, a);
  const modes = o.modes === undefined || o.modes === 'all' ? [...REQUANT_MODES] : o.modes.map(checkMode);
  const opened: BatchExecutor[] = [];
  for (const n of names)
    for (const mode of n === 'runtime' ? modes : [modes[0]]) {
      try {
        opened.push(await defaultExecutor(a, n, { mode }));
      } catch (e) {
        // `all` means every executor this machine can run: one that needs absent hardware is left out, and said so.
        if (!all || !(e instanceof FlexqError) || e.code !== 'DEVICE_MISSING') throw e;
        o.log?.(`validate: skipping executor ${n}: ${e.message}`);
      }
    }
  return opened;
}

/** The output a segmentation is read from: the first, which must be a per-pixel probability (a Sigmoid's). */
function segmentationOutput(graph: Graph, path: string): string {
  const output = graph.outputs[0];
  const op = producers(graph).get(output)?.op;
  if (op !== 'Sigmoid')
    fail('BAD_ARGUMENT', `${path}: --task segmentation reads per-pixel probabilities, but output '${output}' is made by ${op ?? 'no node'}, not a Sigmoid; use --task classification, or a model whose first output is the mask probability`);
  return output;
}

/** The score ([N, anchors, 1]) and box ([N, anchors, ≥ 4]) outputs of a detector such as BlazeFace. */
function detectorOutputs(graph: Graph, path: string): DetectorOutputs {
  const shapeOf = (v: string) => graph.values.get(v)!.shape;
  const anchored = (v: string, least: number) => shapeOf(v).length === 3 && typeof shapeOf(v).at(-1) === 'number' && (shapeOf(v).at(-1) as number) >= least;
  const scores = graph.outputs.find((v) => anchored(v, 1) && shapeOf(v)[2] === 1);
  const boxes = graph.outputs.find((v) => v !== scores && anchored(v, 4));
  if (!scores || !boxes || shapeOf(scores)[1] !== shapeOf(boxes)[1])
    fail(
      'BAD_ARGUMENT',
      `${path}: --task detection needs a score output [N, anchors, 1] and a box output [N, anchors, ≥ 4] (centre x, y, width, height first); ` +
        `found ${graph.outputs.map((v) => `'${v}' ${formatShape(shapeOf(v))}`).join(', ')}`,
    );
  return { scores, boxes };
}

/**
 * Inputs of a Relu or Clip whose grid holds nothing below 0 (TFLite fuses the activation into the op before it, so
 * an imported model has no pre-activation tensor): their integers are the activation's, not the float pre-activation.
 */
function clampedPreActivations(q: QuantizedGraph): Set<string> {
  const lowest = (v: string) => {
    const g = q.activations.get(v);
    return g ? g.scale * (g.qmin - g.zeroPoint) : -Infinity;
  };
  return new Set(q.graph.nodes.filter((n) => (n.op === 'Relu' || n.op === 'Clip') && lowest(n.inputs[0]) >= 0).map((n) => n.inputs[0]));
}

/**
 * The artefact to compare with `graph`: a .fq must have been made from it; an int8 model another tool made is
 * imported and takes the float model's names wherever the graphs pair, so both compare layer by layer alike.
 */
function openQuantized(quantized: QuantizedGraph | string, graph: Graph, o: ValidateOptions): QuantizedArtefact {
  const a: Artefact = typeof quantized === 'string' ? openArtefact(quantized, o.inputShape) : { kind: 'fq', q: quantized };
  if (a.kind === 'model') return fail('BAD_ARGUMENT', `${String(quantized)} is a float model; validate compares a quantized one (a .fq, or an int8 .tflite another tool made) with ${graph.source}`);
  if (a.kind === 'foreign') {
    if (!a.foreign.q) return fail('BAD_ARGUMENT', `${a.foreign.path}: flexq cannot import this integer ${a.foreign.format} model into its runtime, so validate cannot compare it layer by layer with ${graph.source}; measure it in its own runtime with flexq eval ${a.foreign.path} --executor ${a.foreign.format === 'onnx' ? 'ort-node' : 'litert'}`);
    const q = alignNames(a.foreign.q, graph);
    return { kind: 'foreign', foreign: { ...a.foreign, q, graph: q.graph } };
  }
  if (a.q.graph.nodes.length !== graph.nodes.length || a.q.graph.outputs[0] !== graph.outputs[0])
    fail('BAD_ARGUMENT', `${typeof quantized === 'string' ? quantized : a.q.graph.source} was not made from ${graph.source} (its graph differs); give the model it was quantized from (${a.q.info.model})`);
  return a;
}

/** Compares `quantized` (a QuantizedGraph, an .fq path, or an int8 .tflite another tool made) with the float model it stands for. */
export async function validate(modelPath: string, quantized: QuantizedGraph | string, o: ValidateOptions): Promise<ValidateReport> {
  const { graph } = loadModel(modelPath, { inputShape: o.inputShape });
  const artefact = openQuantized(quantized, graph, o);
  const q = artefact.kind === 'fq' ? artefact.q : artefact.foreign.q!;
  const fqPath = typeof quantized === 'string' ? quantized : q.graph.source;
  if (o.budgetKb !== undefined && !(o.budgetKb > 0)) fail('BAD_ARGUMENT', `budget ${o.budgetKb} KiB: expected a positive number of KiB of weights`);
  const task = o.task ?? 'classification';
  if (!TASKS.includes(task)) fail('BAD_ARGUMENT', `--task ${String(task)}: expected one of ${TASKS.join(', ')}`);
  // Checked before any data is read: a task the outputs cannot answer fails at once.
  const mask = task === 'segmentation' ? segmentationOutput(graph, modelPath) : undefined;
  const detector = task === 'detection' ? detectorOutputs(graph, modelPath) : undefined;
  const sampleShape = sampleShapeOf(graph, modelPath);
  const data = await openData(o.data, o, sampleShape);
  const reference = await floatExecutor(graph);
  const tested: BatchExecutor[] = [];
  const output = graph.outputs[0];
  // Every value with an activation grid (a weights-only .fq has none) and every graph output, in graph order; of an
  // imported model, those that pair with a value of the float model.
  const clamped = clampedPreActivations(q);
  const gridded = [...q.activations.keys()].filter((v) => !graph.inputs.includes(v) && graph.values.has(v) && !clamped.has(v));
  const order = new Map(graph.nodes.flatMap((n, k) => n.outputs.map((v) => [v, k] as const)));
  const layers = [...new Set([...gridded, ...graph.outputs])].sort((a, b) => order.get(a)! - order.get(b)!);
  // The float-vs-int confusion is a classifier's: a segmenter's or detector's outputs are not classes, nor is an
  // output too wide for a dense matrix (a 256×256 mask validated as a classifier would need 2^32 counts).
  const outputWidth = sizeOf(graph.values.get(output)!.shape.slice(1) as number[]);
  const classes = task === 'classification' && outputWidth <= MAX_CONFUSION_CLASSES ? outputWidth : 0;
  const agree: number[] = [];
  const correct = [0];
  // Milliseconds spent in run(), the float reference first.
  const spent = [0];
  let stats: Map<string, AgreementAccumulator>[] = [];
  let histograms: Map<string, ErrorHistogram>[] = [];
  let confusion: number[][][] = [];
  let mismatch: number[][] = [];
  const masks: MaskIouAccumulator[] = [];
  const detections: DetectionAccumulator[] = [];
  try {
    tested.push(...(await openExecutors(artefact, o)));
    stats = tested.map(() => new Map(layers.map((v) => [v, new AgreementAccumulator()])));
    histograms = tested.map(() => new Map(gridded.map((v) => [v, new ErrorHistogram(q.activations.get(v)!.scale)])));
    confusion = tested.map(() => Array.from({ length: classes }, () => new Array<number>(classes).fill(0)));
    agree.push(...tested.map(() => 0));
    correct.push(...tested.map(() => 0));
    spent.push(...tested.map(() => 0));
    mismatch = tested.map(() => tested.map(() => 0));
    masks.push(...tested.map(() => new MaskIouAccumulator()));
    detections.push(...tested.map(() => new DetectionAccumulator()));
    const progress = (o.progress ?? silentProgress)('validate', data.size);
    const timed = async <T>(k: number, run: () => Promise<T>): Promise<T> => {
      const start = performance.now();
      const result = await run();
      spent[k] += performance.now() - start;
      return result;
    };
    for await (const batch of data.batches(o.batch ?? DEFAULT_BATCH)) {
      const input = { shape: [batch.count, ...sampleShape], data: batch.data };
      const ref = await timed(0, () => reference.run(input, layers));
      const refTop = argmaxRows(ref.get(output)!.data, batch.count);
      const outs: Map<string, { data: Float32Array }>[] = [];
      for (const [k, ex] of tested.entries()) outs.push(await timed(k + 1, () => ex.run(input, layers)));
      const tops = outs.map((out) => argmaxRows(out.get(output)!.data, batch.count));
      outs.forEach((out, k) => {
        for (const v of layers)
          if (out.has(v)) {
            stats[k].get(v)!.add(ref.get(v)!.data, out.get(v)!.data);
            histograms[k].get(v)?.add(ref.get(v)!.data, out.get(v)!.data);
          }
        agree[k] += tops[k].filter((c, i) => c === refTop[i]).length;
        if (classes > 0) tops[k].forEach((c, i) => confusion[k][refTop[i]][c]++);
        if (mask) masks[k].add(ref.get(mask)!.data, out.get(mask)!.data, batch.count);
        if (detector)
          detections[k].add(ref.get(detector.scores)!.data, out.get(detector.scores)!.data, ref.get(detector.boxes)!.data, out.get(detector.boxes)!.data, batch.count);
        outs.forEach((other, j) => (mismatch[k][j] += out.get(output)!.data.filter((x, i) => x !== other.get(output)!.data[i]).length));
      });
      if (batch.labels) [refTop, ...tops].forEach((top, k) => (correct[k] += top.filter((c, i) => c === batch.labels![i]).length));
      progress.advance(batch.count);
    }
    progress.finish();
  } finally {
    await reference.dispose();
    for (const t of tested) await t.dispose();
  }
  const made = producers(graph);
  // Labels score a classifier only: a segmenter's or detector's outputs are compared with the float model's instead.
  const labeled = data.labeled && task === 'classification';
  let blame: BlameReport | undefined;
  let plan: BitPlanReport | undefined;
  if (o.blame || o.budgetKb !== undefined) {
    const scorer = await weightScorer(graph, data, sampleShape, o);
    blame = await blameLayers(scorer, q, o);
    if (o.budgetKb !== undefined) plan = await suggestBits(scorer, blame, o.budgetKb, o);
  }
  return {
    model: modelPath,
    quantized: fqPath,
    artefact: artefact.kind === 'fq' ? 'fq' : artefact.foreign.format,
    weightBytes: [...q.weights.values()].reduce((sum, w) => sum + packedBytes(w.values.length, w.bits), 0),
    data: o.data,
    count: data.size,
    task,
    ...(labeled ? { floatTop1: correct[0] / data.size } : {}),
    floatMsPerSample: spent[0] / data.size,
    quantization: { method: q.info.method, wbits: q.info.wbits, abits: q.info.abits },
    executors: tested.map((ex, k) => ({
      executor: ex.name,
      ...(labeled ? { top1: correct[k + 1] / data.size } : {}),
      top1Agreement: agree[k] / data.size,
      output: stats[k].get(output)!.stats(),
      outputs: Object.fromEntries(graph.outputs.map((v) => [v, stats[k].get(v)!.stats()])),
      ...(mask ? { segmentation: masks[k].stats() } : {}),
      ...(detector ? { detection: detections[k].stats() } : {}),
      layers: layers
        .filter((v) => stats[k].get(v)!.stats().count > 0)
        .map((v) => ({ value: v, op: made.get(v)?.op ?? 'input', shape: formatShape(graph.values.get(v)!.shape), ...stats[k].get(v)!.stats(), errorHistogram: histograms[k].get(v)?.counts ?? [] })),
      confusion: confusion[k],
      msPerSample: spent[k + 1] / data.size,
    })),
    mismatches: Object.fromEntries(tested.map((a, k) => [a.name, Object.fromEntries(tested.map((b, j) => [b.name, mismatch[k][j]]))])),
    ...(blame ? { blame } : {}),
    ...(plan ? { plan } : {}),
    ...(o.deployment ? { deployments: await deployments(q, executorsAsked(o, artefact), data, o) } : {}),
  };
}
