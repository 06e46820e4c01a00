import type { Command } from 'commander';
import { openDataset } from '../../../calibration/index.js';
import { REQUANT_MODES, type RequantMode } from '../../../runtime/requant/index.js';
import { fail, FlexqError } from '../../errors.js';
import { producers } from '../../ir/graph.js';
import { formatShape } from '../../ir/shape.js';
import { loadModel } from '../../load-model.js';
import { AgreementAccumulator, argmaxRows, type AgreementStats } from '../../metrics.js';
import { readFq } from '../../quant/fq-file.js';
import type { QuantizedGraph } from '../../quant/quantized-graph.js';
import { executorNames, floatExecutor, parseMode, quantizedExecutor, QUANTIZED_EXECUTORS, type BatchExecutor } from '../executors.js';
import { parseInputShape } from '../options.js';
import { createProgress } from '../progress.js';
import { addDataOptions, sampleShapeOf, type DataOptions } from './eval.js';

interface ValidateOptions extends DataOptions { data: string; modes: string; executors: string; json?: boolean }

export interface LayerReport extends AgreementStats {
  readonly value: string;
  readonly op: string;
  readonly shape: string;
}

export interface ExecutorReport {
  readonly executor: string;
  readonly top1?: number;
  /** Fraction of samples whose top-1 class equals the float model's. */
  readonly top1Agreement: number;
  readonly output: AgreementStats;
  readonly layers: LayerReport[];
}

export interface ValidateReport {
  readonly model: string;
  readonly quantized: string;
  readonly data: string;
  readonly count: number;
  readonly floatTop1?: number;
  readonly executors: ExecutorReport[];
  /** Output elements that differ between each pair of integer executors (0 = bit-exact with each other). */
  readonly mismatches: Record<string, Record<string, number>>;
}

function parseModes(text: string): RequantMode[] {
  return text === 'all' ? [...REQUANT_MODES] : text.split(',').map((m) => parseMode(m.trim()));
}

/** The integer executors to compare: the runtime once per mode, every other executor once. */
async function openExecutors(q: QuantizedGraph, o: ValidateOptions): Promise<BatchExecutor[]> {
  const names = o.executors === 'all' ? Object.keys(QUANTIZED_EXECUTORS) : o.executors.split(',').map((e) => e.trim());
  for (const n of names) if (!(n in QUANTIZED_EXECUTORS)) fail('BAD_ARGUMENT', `--executors ${n}: expected a comma-separated list of ${Object.keys(QUANTIZED_EXECUTORS).join(', ')}, or all`);
  const modes = parseModes(o.modes);
  const opened: BatchExecutor[] = [];
  for (const n of names)
    for (const mode of n === 'runtime' ? modes : [modes[0]]) {
      try {
        opened.push(await quantizedExecutor(q, n, { mode }));
      } catch (e) {
        // `all` means every executor this machine can run: one that needs absent hardware is left out, and said so.
        if (o.executors !== 'all' || !(e instanceof FlexqError) || e.code !== 'DEVICE_MISSING') throw e;
        process.stderr.write(`validate: skipping --executor ${n}: ${e.message}\n`);
      }
    }
  return opened;
}

/** Runs the float model and the integer runtime (in each mode) on the same data and compares them layer by layer. */
export async function validate(modelPath: string, fqPath: string, o: ValidateOptions): Promise<ValidateReport> {
  const { graph } = loadModel(modelPath, { inputShape: parseInputShape(o.inputShape) });
  const q = readFq(fqPath);
  if (q.graph.nodes.length !== graph.nodes.length || q.graph.outputs[0] !== graph.outputs[0])
    fail('BAD_ARGUMENT', `${fqPath} was not made from ${modelPath} (its graph differs); give the model it was quantized from (${q.info.model})`);
  const sampleShape = sampleShapeOf(graph, modelPath);
  const data = await openDataset({ path: o.data, labels: o.labels, preprocess: o.preprocess, layout: o.layout, limit: o.limit, offset: o.offset, sampleShape });
  const reference = await floatExecutor(graph);
  const tested = await openExecutors(q, o);
  const layers = [...q.activations.keys()].filter((v) => !graph.inputs.includes(v));
  const output = graph.outputs[0];
  const stats = tested.map(() => new Map(layers.map((v) => [v, new AgreementAccumulator()])));
  const agree = tested.map(() => 0);
  const correct = [0, ...tested.map(() => 0)];
  const mismatch = tested.map(() => tested.map(() => 0));
  const progress = createProgress('validate', data.size);
  try {
    for await (const batch of data.batches(o.batch)) {
      const input = { shape: [batch.count, ...sampleShape], data: batch.data };
      const ref = await reference.run(input, layers);
      const refTop = argmaxRows(ref.get(output)!.data, batch.count);
      const outs: Map<string, { data: Float32Array }>[] = [];
      for (const ex of tested) outs.push(await ex.run(input, layers));
      const tops = outs.map((out) => argmaxRows(out.get(output)!.data, batch.count));
      outs.forEach((out, k) => {
        for (const v of layers) if (out.has(v)) stats[k].get(v)!.add(ref.get(v)!.data, out.get(v)!.data);
        agree[k] += tops[k].filter((c, i) => c === refTop[i]).length;
        outs.forEach((other, j) => (mismatch[k][j] += out.get(output)!.data.filter((x, i) => x !== other.get(output)!.data[i]).length));
      });
      if (batch.labels) [refTop, ...tops].forEach((top, k) => (correct[k] += top.filter((c, i) => c === batch.labels![i]).length));
      progress.advance(batch.count);
    }
  } finally {
    await reference.dispose();
    for (const t of tested) await t.dispose();
  }
  progress.finish();
  const made = producers(graph);
  const labeled = data.labeled;
  return {
    model: modelPath,
    quantized: fqPath,
    data: o.data,
    count: data.size,
    ...(labeled ? { floatTop1: correct[0] / data.size } : {}),
    executors: tested.map((ex, k) => ({
      executor: ex.name,
      ...(labeled ? { top1: correct[k + 1] / data.size } : {}),
      top1Agreement: agree[k] / data.size,
      output: stats[k].get(output)!.stats(),
      layers: layers.filter((v) => stats[k].get(v)!.stats().count > 0).map((v) => ({ value: v, op: made.get(v)?.op ?? 'input', shape: formatShape(graph.values.get(v)!.shape), ...stats[k].get(v)!.stats() })),
    })),
    mismatches: Object.fromEntries(tested.map((a, k) => [a.name, Object.fromEntries(tested.map((b, j) => [b.name, mismatch[k][j]]))])),
  };
}

const pct = (x: number | undefined) => (x === undefined ? '—' : `${(100 * x).toFixed(2)} %`);

function printReport(r: ValidateReport): void {
  const lines = [`${r.quantized} vs ${r.model} on ${r.data} (N=${r.count})`, `  float top-1: ${pct(r.floatTop1)}`];
  for (const e of r.executors)
    lines.push(`  ${e.executor}: top-1 ${pct(e.top1)}, top-1 agreement with float ${pct(e.top1Agreement)}, output SQNR ${e.output.sqnrDb.toFixed(1)} dB, cosine ${e.output.cosine.toFixed(5)}`);
  const first = r.executors[0];
  lines.push('', `  per layer (${first.executor} vs float):`);
  const rows = first.layers.map((l) => [l.value, l.op, l.shape, l.sqnrDb.toFixed(1), l.cosine.toFixed(5), l.maxAbsError.toPrecision(3)]);
  const header = ['value', 'op', 'shape', 'SQNR dB', 'cosine', 'max |err|'];
  const widths = header.map((h, k) => Math.max(h.length, ...rows.map((row) => row[k].length)));
  for (const row of [header, ...rows]) lines.push('  ' + row.map((c, k) => (k >= 3 ? c.padStart(widths[k]) : c.padEnd(widths[k]))).join('  '));
  if (r.executors.length > 1) {
    lines.push('', '  output elements that differ between executors:');
    for (const [a, row] of Object.entries(r.mismatches)) lines.push(`  ${a.padEnd(24)} ${Object.values(row).map((n) => String(n).padStart(8)).join(' ')}`);
  }
  process.stdout.write(lines.join('\n') + '\n');
}

export function registerValidate(program: Command): void {
  addDataOptions(program.command('validate').description('compare a quantized graph against its float model: accuracy, top-1 agreement, per-layer SQNR').argument('<model>', 'the float model (.onnx/.tflite)').argument('<quantized>', 'the .fq made from it'))
    .option('--modes <modes>', 'integer runtime modes to run: comma-separated, or all', 'all')
    .option('--executors <names>', `integer executors to compare: comma-separated (${executorNames().slice(1).join(', ')}), or all`, 'runtime')
    .option('--json', 'one JSON object on stdout')
    .action(async (model: string, quantized: string, o: ValidateOptions) => {
      const r = await validate(model, quantized, o);
      if (o.json) process.stdout.write(JSON.stringify(r) + '\n');
      else printReport(r);
    });
}
