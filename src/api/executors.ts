// Opening an artefact and an executor for it: the float executor (models, and .fq with float activations), flexq's
// integer runtime in one requantization mode, or any target's executor by name.
import { createIntegerRuntime, dequantize } from '../../runtime/executor.js';
import { fail } from '../errors.js';
import { createFloatExecutor } from '../exec/float-executor.js';
import type { Graph } from '../ir/graph.js';
import type { Dim } from '../ir/shape.js';
import { readModelFile } from '../import/index.js';
import { loadModel } from '../load-model.js';
import { decodeFq, isFq } from '../quant/fq-file.js';
import type { QuantizedGraph } from '../ir/quantized-graph.js';
import { REQUANT_MODES, type RequantMode } from '../quant/requant-mode.js';
import type { BatchExecutor, ExecutorOptions } from '../target.js';
import { targetExecutor } from './registry.js';

/** A model file (.onnx, .tflite) or a quantized graph (.fq). */
export type Artefact = { kind: 'model'; graph: Graph } | { kind: 'fq'; q: QuantizedGraph };

export function openArtefact(path: string, inputShape?: readonly Dim[]): Artefact {
  const bytes = readModelFile(path);
  if (isFq(bytes)) return { kind: 'fq', q: decodeFq(bytes, path) };
  return { kind: 'model', graph: loadModel(path, { inputShape }).graph };
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

/** The executor for an artefact: float for models and weights-only .fq, the integer runtime otherwise. */
export async function defaultExecutor(a: Artefact, name: string | undefined, o: ExecutorOptions): Promise<BatchExecutor> {
  if (a.kind === 'model') {
    if (name !== undefined && name !== 'float') fail('BAD_ARGUMENT', `executor '${name}' runs a quantized graph (.fq); quantize the model first`);
    return floatExecutor(a.graph);
  }
  return quantizedExecutor(a.q, name ?? (a.q.activations.size === 0 ? 'float' : 'runtime'), o);
}
