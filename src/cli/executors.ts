import { createIntegerRuntime, dequantize } from '../../runtime/executor.js';
import { a100Executor } from '../../targets/a100/executor.js';
import { REQUANT_MODES, type RequantMode } from '../../runtime/requant/index.js';
import { fail } from '../errors.js';
import { createFloatExecutor, type FloatTensor } from '../exec/float-executor.js';
import type { Graph } from '../ir/graph.js';
import { readModelFile } from '../import/index.js';
import { loadModel } from '../load-model.js';
import { decodeFq, isFq } from '../quant/fq-file.js';
import type { QuantizedGraph } from '../quant/quantized-graph.js';
import { parseInputShape } from './options.js';
import { createOrtExecutor } from '../../targets/web/ort-executor.js';
import { qemuExecutor } from '../../targets/cortex-m/executor.js';
import { tfliteExecutor } from '../../targets/tflite/executor.js';

/**
 * One way of running an artefact on float batches; every executor returns float tensors
 * (integer executors dequantize), so any two can be compared value by value.
 */
export interface BatchExecutor {
  readonly name: string;
  readonly graph: Graph;
  /** Runs a batch; `outputs` defaults to the graph outputs. Executors that can only give the graph outputs ignore other names. */
  run(input: FloatTensor, outputs?: readonly string[]): Promise<Map<string, FloatTensor>>;
  dispose(): void | Promise<void>;
}

/** Options every integer executor may read. */
export interface ExecutorOptions {
  /** Requantization mode of flexq's own runtime. */
  readonly mode: RequantMode;
}

/** Makes an executor of a quantized graph; each target registers one under its name in QUANTIZED_EXECUTORS. */
export type QuantizedExecutorFactory = (q: QuantizedGraph, o: ExecutorOptions) => Promise<BatchExecutor>;

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
  return { name, graph, run: async (input, outputs) => ex.run({ [graph.inputs[0]]: input }, outputs), dispose: () => ex.dispose() };
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

/** Integer executors need quantized activations; a weights-only .fq runs on the float executor. */
export function requireQuantizedActivations(q: QuantizedGraph, executor: string): void {
  if (q.activations.size === 0) fail('BAD_ARGUMENT', `${q.graph.source}: quantized with --abits 32 (float activations); the ${executor} executor runs integer activations: use --executor float`);
}

/** Every executor of a quantized graph, by the name `--executor` takes. */
export const QUANTIZED_EXECUTORS: Record<string, QuantizedExecutorFactory> = {
  runtime: runtimeExecutor,
  'qemu-m4': qemuExecutor('cortex-m4'),
  'qemu-m7': qemuExecutor('cortex-m7'),
  'qemu-m55': qemuExecutor('cortex-m55'),
  a100: a100Executor,
  'ort-node': (q) => createOrtExecutor(q, 'node'),
  'ort-web': (q) => createOrtExecutor(q, 'web'),
  litert: tfliteExecutor('litert', 'xnnpack'),
  'litert-builtin': tfliteExecutor('litert', 'builtin'),
  'tfjs-tflite': tfliteExecutor('tfjs-tflite', 'xnnpack'),
  'tfjs-tflite-builtin': tfliteExecutor('tfjs-tflite', 'builtin'),
};

export function executorNames(): string[] {
  return ['float', ...Object.keys(QUANTIZED_EXECUTORS)];
}

/** An executor of a quantized graph by name (`float` runs its dequantized weights on the float executor). */
export async function quantizedExecutor(q: QuantizedGraph, name: string, o: ExecutorOptions): Promise<BatchExecutor> {
  if (name === 'float') return floatExecutor(q.graph, `float (W${q.info.wbits} dequantized)`);
  const make = QUANTIZED_EXECUTORS[name];
  if (!make) fail('BAD_ARGUMENT', `--executor ${name}: expected one of ${executorNames().join(', ')}`);
  return make(q, o);
}

/** The executor `eval` uses for an artefact: float for models and weights-only .fq, the integer runtime otherwise. */
export async function defaultExecutor(a: Artefact, name: string | undefined, o: ExecutorOptions): Promise<BatchExecutor> {
  if (a.kind === 'model') {
    if (name !== undefined && name !== 'float') fail('BAD_ARGUMENT', `--executor ${name} runs a quantized graph (.fq); quantize the model first`);
    return floatExecutor(a.graph);
  }
  return quantizedExecutor(a.q, name ?? (a.q.activations.size === 0 ? 'float' : 'runtime'), o);
}
