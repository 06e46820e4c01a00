// A quantized graph exported to .tflite (src/export/tflite) and run by a real TFLite interpreter, sample by sample
// (flexq's models have batch 1): float NCHW batches in, dequantized float outputs back in the IR's layout.
// Four paths: each interpreter with its default XNNPACK delegate (constant weights: the delegate takes the
// convolution and fully-connected layers) or on TFLite's built-in kernels (weights 'computed': no layer has
// constant weights, so XNNPACK leaves them to the interpreter). The runtime modes that match them bit for bit
// are 'tflite-xnnpack' and 'tflite-builtin' (runtime/requant).

import { NCHW_TO_NHWC, NHWC_TO_NCHW } from '../../src/ir/layout.js';
import { tfliteBytes, type TfliteExportOptions } from '../../src/export/tflite/index.js';
import { transposeConst } from '../../src/ops/transpose.js';
import type { Graph } from '../../src/ir/graph.js';
import type { QuantizedGraph } from '../../src/ir/quantized-graph.js';
import type { BatchExecutor, ExecutorFactory } from '../../src/target.js';
import type { TfliteInterpreter } from './interpreter.js';
import { openLiteRt } from './litert.js';
import { openTfjsTflite } from './tfjs-tflite.js';

export type TfliteInterpreterKind = 'litert' | 'tfjs-tflite';
export type TflitePath = 'xnnpack' | 'builtin';

const OPEN: Record<TfliteInterpreterKind, (model: Uint8Array, source: string) => Promise<TfliteInterpreter>> = {
  litert: openLiteRt,
  'tfjs-tflite': openTfjsTflite,
};

/**
 * The export options of an interpreter's path: float I/O, and constant weights only where XNNPACK should take the layers.
 * LiteRT.js's XNNPACK also takes a MEAN with constant axes, so its built-in path computes them; tfjs-tflite's XNNPACK
 * leaves int8 MEAN to the built-in kernel, and its older interpreter misreads a MEAN with computed axes (946 of 960 bytes off).
 */
export function pathExportOptions(kind: TfliteInterpreterKind, path: TflitePath): TfliteExportOptions {
  if (path === 'xnnpack') return { io: 'float', weights: 'constant' };
  return { io: 'float', weights: 'computed', meanAxes: kind === 'litert' ? 'computed' : 'constant' };
}

export async function openTfliteInterpreter(kind: TfliteInterpreterKind, q: QuantizedGraph, path: TflitePath): Promise<TfliteInterpreter> {
  return OPEN[kind](tfliteBytes(q, pathExportOptions(kind, path)), q.graph.source);
}

/** One sample of an NCHW tensor in the interpreter's layout (NHWC for rank 4), or back. */
function relayout(data: Float32Array, shape: readonly number[], perm: readonly number[]): Float32Array {
  if (shape.length !== 4) return data;
  return transposeConst({ dtype: 'float32', shape, data }, perm).data as Float32Array;
}

/** An executor of one interpreter and path: float in, float out (NCHW outside, NHWC inside the interpreter). */
export async function createTfliteExecutor(kind: TfliteInterpreterKind, q: QuantizedGraph, path: TflitePath): Promise<BatchExecutor> {
  const interpreter = await openTfliteInterpreter(kind, q, path);
  const { graph } = q;
  const nhwc = { input: true, outputs: graph.outputs.map(() => true) };
  return interpreterExecutor(`${interpreter.name} (${path === 'xnnpack' ? 'XNNPACK delegate' : 'built-in kernels'})`, interpreter, graph, nhwc);
}

/** Which rank-4 tensors the interpreter holds in NHWC (flexq's exports: all; a foreign model: those it states so). */
export interface InterpreterLayout {
  readonly input: boolean;
  readonly outputs: readonly boolean[];
}

/** Runs the interpreter sample by sample on batches of the graph's input, re-laid to and from its layout. */
export function interpreterExecutor(name: string, interpreter: TfliteInterpreter, graph: Graph, nhwc: InterpreterLayout): BatchExecutor {
  const outputShapes = graph.outputs.map((name) => graph.values.get(name)!.shape.slice(1) as number[]);
  return {
    name,
    graph,
    async run(input) {
      const [n, ...sample] = input.shape;
      const size = sample.reduce((a, b) => a * b, 1);
      const outputs = outputShapes.map((s) => new Float32Array(n * s.reduce((a, b) => a * b, 1)));
      for (let i = 0; i < n; i++) {
        const x = input.data.subarray(i * size, (i + 1) * size);
        const ys = await interpreter.run(nhwc.input ? relayout(x, [1, ...sample], NCHW_TO_NHWC) : x);
        ys.forEach((y, k) => {
          const s = outputShapes[k];
          const shape = s.length === 3 ? [1, s[1], s[2], s[0]] : [1, ...s];
          outputs[k].set(nhwc.outputs[k] ? relayout(y, shape, NHWC_TO_NCHW) : y, i * y.length);
        });
      }
      return new Map(graph.outputs.map((name, k) => [name, { shape: [n, ...outputShapes[k]], data: outputs[k] }]));
    },
    dispose: () => interpreter.dispose(),
  };
}

/** The `--executor` factory of one interpreter and path. */
export const tfliteExecutor = (kind: TfliteInterpreterKind, path: TflitePath): ExecutorFactory => (q) => createTfliteExecutor(kind, q, path);
