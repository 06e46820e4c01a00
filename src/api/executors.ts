// Opening an artefact and an executor for it: the float executor (models, and .fq with float activations), flexq's
// integer runtime in one requantization mode, or any target's executor by name. An int8 model another tool made
// (a foreign artefact) runs in its real runtime (a target's foreignExecutors) or, imported, in flexq's own executors.
import { createIntegerRuntime, dequantize } from '../../runtime/executor.js';
import { fail } from '../errors.js';
import { createFloatExecutor } from '../exec/float-executor.js';
import type { Graph } from '../ir/graph.js';
import type { Dim } from '../ir/shape.js';
import { detectFormat, readModelFile } from '../import/index.js';
import { importTfliteInt8, isInt8Tflite } from '../import/tflite/import-tflite-int8.js';
import { isIntegerOnnx, onnxInterface } from '../import/foreign-onnx.js';
import { loadModel } from '../load-model.js';
import { decodeFq, isFq } from '../quant/fq-file.js';
import type { QuantizedGraph } from '../ir/quantized-graph.js';
import { REQUANT_MODES, type RequantMode } from '../quant/requant-mode.js';
import type { BatchExecutor, ExecutorOptions, ForeignArtefact } from '../target.js';
import { executorNames, foreignExecutor, targetExecutor } from './registry.js';

/** A float model file (.onnx, .tflite), a quantized graph (.fq), or an int8 model another tool made. */
export type Artefact = { kind: 'model'; graph: Graph } | { kind: 'fq'; q: QuantizedGraph } | { kind: 'foreign'; foreign: ForeignArtefact };

export function openArtefact(path: string, inputShape?: readonly Dim[]): Artefact {
  const bytes = readModelFile(path);
  if (isFq(bytes)) return { kind: 'fq', q: decodeFq(bytes, path) };
  if (detectFormat(bytes) === 'tflite' && isInt8Tflite(bytes, path)) {
    const q = importTfliteInt8(bytes, path, { inputShape });
    return { kind: 'foreign', foreign: { path, format: 'tflite', bytes, q, graph: q.graph } };
  }
  if (detectFormat(bytes) === 'onnx' && isIntegerOnnx(bytes)) return { kind: 'foreign', foreign: { path, format: 'onnx', bytes, graph: onnxInterface(bytes, path) } };
  return { kind: 'model', graph: loadModel(path, { inputShape }).graph };
}

/** The quantized graph of an .fq or an imported foreign artefact, for commands that read integers. */
export function quantizedGraphOf(a: Artefact): QuantizedGraph | undefined {
  return a.kind === 'fq' ? a.q : a.kind === 'foreign' ? a.foreign.q : undefined;
}

export function checkMode(mode: string): RequantMode {
  if (!(REQUANT_MODES as readonly string[]).includes(mode)) fail('BAD_ARGUMENT', `mode '${mode}': expected one of ${REQUANT_MODES.join(', ')}`);
  return mode as RequantMode;
}

/** The float executor over a graph (for an .fq: its weights dequantized, activations float). */
export async function floatExecutor(graph: Graph, name = 'float'): Promise<BatchExecutor> {
  const ex = await createFloatExecutor(graph);
  return { name, graph, run: async (input, outputs) => ex.run({ [graph.inputs[0]]: input }, outputs), dispose: () => ex.dispose() };
}

/** Integer executors need quantized activations; a weights-only .fq runs on the float executor. */
export function requireQuantizedActivations(q: QuantizedGraph, executor: string): void {
  if (q.activations.size === 0) fail('BAD_ARGUMENT', `${q.graph.source}: quantized with 32-bit (float) activations; the ${executor} executor runs integer activations: use the float executor`);
}

/** flexq's integer runtime in one requantization mode, fed float inputs it quantizes itself. */
export async function runtimeExecutor(q: QuantizedGraph, o: ExecutorOptions): Promise<BatchExecutor> {
  requireQuantizedActivations(q, 'runtime');
  const rt = createIntegerRuntime(q, o.mode);
  return {
    name: `runtime (${o.mode})`,
    graph: q.graph,
    async run(input, outputs) {
      const out = rt.run({ shape: input.shape, data: rt.quantizeInput(input.data) }, outputs);
      return new Map([...out].map(([k, t]) => [k, { shape: t.shape, data: dequantize(t) }]));
    },
    dispose() {},
  };
}

/** An executor of a quantized graph by name (`float` runs its dequantized weights on the float executor). */
export async function quantizedExecutor(q: QuantizedGraph, name: string, o: ExecutorOptions): Promise<BatchExecutor> {
  if (name === 'float') return floatExecutor(q.graph, `float (W${q.info.wbits} dequantized)`);
  if (name === 'runtime') return runtimeExecutor(q, o);
  return targetExecutor(name)(q, o);
}

/**
 * A foreign artefact's executor: a target's runtime of the file itself under that name (litert, ort-node), else flexq's
 * own executors of its imported graph (runtime by default; float; or a target's, on flexq's export of it).
 */
async function foreignArtefactExecutor(a: ForeignArtefact, name: string | undefined, o: ExecutorOptions): Promise<BatchExecutor> {
  const chosen = name ?? (a.q ? 'runtime' : OWN_RUNTIME[a.format]);
  const own = foreignExecutor(a.format, chosen);
  if (own) return own(a, o);
  if (!a.q) fail('BAD_ARGUMENT', `${a.path}: flexq does not import this ${a.format} model's integers, so only its own runtime runs it: --executor ${OWN_RUNTIME[a.format]}`);
  if (!executorNames().includes(chosen)) fail('BAD_ARGUMENT', `executor '${chosen}': expected one of ${executorNames().join(', ')}`);
  return quantizedExecutor(a.q, chosen, o);
}

/** The runtime each foreign format is made for. */
const OWN_RUNTIME = { tflite: 'litert', onnx: 'ort-node' } as const;

/** The executor for an artefact: float for models and weights-only .fq, the integer runtime otherwise. */
export async function defaultExecutor(a: Artefact, name: string | undefined, o: ExecutorOptions): Promise<BatchExecutor> {
  if (a.kind === 'foreign') return foreignArtefactExecutor(a.foreign, name, o);
  if (a.kind === 'model') {
    if (name !== undefined && name !== 'float') fail('BAD_ARGUMENT', `executor '${name}' runs a quantized graph (.fq); quantize the model first`);
    return floatExecutor(a.graph);
  }
  return quantizedExecutor(a.q, name ?? (a.q.activations.size === 0 ? 'float' : 'runtime'), o);
}
