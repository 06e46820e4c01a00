import { createIntegerRuntime, dequantize } from '../../runtime/executor.js';
import { REQUANT_MODES, type RequantMode } from '../../runtime/requant/index.js';
import { fail } from '../errors.js';
import { createFloatExecutor, type FloatTensor } from '../exec/float-executor.js';
import type { Graph } from '../ir/graph.js';
import { readModelFile } from '../import/index.js';
import { loadModel } from '../load-model.js';
import { decodeFq, isFq } from '../quant/fq-file.js';
import type { QuantizedGraph } from '../quant/quantized-graph.js';
import { parseInputShape } from './options.js';

/**
 * One way of running an artefact on float batches; every executor returns float tensors
 * (integer executors dequantize), so any two can be compared value by value.
 */
export interface BatchExecutor {
  readonly name: string;
  readonly graph: Graph;
  run(input: FloatTensor, outputs?: readonly string[]): Map<string, FloatTensor>;
  dispose(): void;
}

export type ExecutorKind = 'float' | 'runtime';

/** A model file (.onnx, .tflite) or a quantized graph (.fq). */
export type Artefact = { kind: 'model'; graph: Graph } | { kind: 'fq'; q: QuantizedGraph };

export function openArtefact(path: string, inputShape?: string): Artefact {
  const bytes = readModelFile(path);
  if (isFq(bytes)) return { kind: 'fq', q: decodeFq(bytes, path) };
  return { kind: 'model', graph: loadModel(path, { inputShape: parseInputShape(inputShape) }).graph };
}

export function parseMode(text: string): RequantMode {
  if (!(REQUANT_MODES as readonly string[]).includes(text)) fail('BAD_ARGUMENT', `--mode ${text}: expected one of ${REQUANT_MODES.join(', ')}`);
  return text as RequantMode;
}

/** The float executor over a graph (for an .fq: its weights dequantized, activations float). */
export async function floatExecutor(graph: Graph, name = 'float'): Promise<BatchExecutor> {
  const ex = await createFloatExecutor(graph);
  return { name, graph, run: (input, outputs) => ex.run({ [graph.inputs[0]]: input }, outputs), dispose: () => ex.dispose() };
}

/** flexq's integer runtime in one requantization mode, fed float inputs it quantizes itself. */
export function runtimeExecutor(q: QuantizedGraph, mode: RequantMode): BatchExecutor {
  if (q.activations.size === 0) fail('BAD_ARGUMENT', `${q.graph.source}: quantized with --abits 32 (float activations); run it with --executor float`);
  const rt = createIntegerRuntime(q, mode);
  return {
    name: `runtime (${mode})`,
    graph: q.graph,
    run(input, outputs) {
      const out = rt.run({ shape: input.shape, data: rt.quantizeInput(input.data) }, outputs);
      return new Map([...out].map(([k, t]) => [k, { shape: t.shape, data: dequantize(t) }]));
    },
    dispose() {},
  };
}

/** The executor `eval` uses for an artefact: float for models and weights-only .fq, the integer runtime otherwise. */
export async function defaultExecutor(a: Artefact, kind: ExecutorKind | undefined, mode: RequantMode): Promise<BatchExecutor> {
  if (a.kind === 'model') {
    if (kind === 'runtime') fail('BAD_ARGUMENT', 'the integer runtime runs a quantized graph (.fq); quantize the model first');
    return floatExecutor(a.graph);
  }
  const useFloat = kind === 'float' || (kind === undefined && a.q.activations.size === 0);
  return useFloat ? floatExecutor(a.q.graph, `float (W${a.q.info.wbits} dequantized)`) : runtimeExecutor(a.q, mode);
}

