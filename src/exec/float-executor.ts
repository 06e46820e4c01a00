import { fail } from '../errors.js';
import type { Graph, Value } from '../ir/graph.js';
import { formatShape } from '../ir/shape.js';
import { NCHW_TO_NHWC, NHWC_TO_NCHW } from '../ir/layout.js';
import { TFJS_KERNELS, type Kernel } from './tfjs-kernels.js';
import { tf, tfjsReady } from './tfjs-runtime.js';
import type { FloatTensor } from '../tensor.js';

/** A dense float tensor in the IR's layout (NCHW for rank 4). */

export interface FloatExecutor {
  readonly graph: Graph;
  /** The TensorFlow.js backend it runs on ('wasm', or 'cpu' where wasm cannot start). */
  readonly backend: string;
  /** Runs one batch. Returns the graph outputs, or the values named in `outputs` (any node output). */
  run(inputs: Readonly<Record<string, FloatTensor>>, outputs?: readonly string[]): Map<string, FloatTensor>;
  dispose(): void;
}

interface Step {
  readonly kernel: Kernel;
  readonly inputs: readonly string[];
  readonly output: string;
  /** Values read for the last time by this step, freed after it. */
  readonly release: readonly string[];
}

const toNhwc = NCHW_TO_NHWC as unknown as number[];
const toNchw = NHWC_TO_NCHW as unknown as number[];

/**
 * Prepares a graph for float execution on TensorFlow.js: validates every node once, lays out weights,
 * and plans when each intermediate tensor is freed. Rank-4 values live NHWC inside; callers see NCHW.
 * Float constants are the only constants kernels read at run time; int64 constants are shape operands
 * consumed at prepare time.
 */
export async function createFloatExecutor(graph: Graph): Promise<FloatExecutor> {
  const backend = await tfjsReady();
  const owned: tf.Tensor[] = [];
  const own = <T extends tf.Tensor>(t: T): T => (owned.push(t), t);
  const constants = new Map<string, tf.Tensor>();
  const steps: Step[] = [];
  const lastUse = new Map<string, number>();
  graph.nodes.forEach((n, i) => n.inputs.forEach((x) => x !== '' && lastUse.set(x, i)));

  for (const node of graph.nodes) {
    const factory = TFJS_KERNELS.get(node.op);
    if (!factory) fail('UNSUPPORTED_OP', `${graph.source}: node '${node.name}' (${node.op}) has no float kernel`);
    if (node.outputs.filter((o) => o !== '').length !== 1)
      fail('UNSUPPORTED_ATTR', `${graph.source}: node '${node.name}' (${node.op}) has several outputs; the float executor runs single-output nodes`);
    const value = (i: number): Value | undefined => (node.inputs[i] ? graph.values.get(node.inputs[i]) : undefined);
    const kernel = factory({
      graph,
      node,
      input: value,
      constant(i, what) {
        const v = value(i);
        if (!v?.data) return fail('UNSUPPORTED_ATTR', `${graph.source}: node '${node.name}' (${node.op}): the ${what} ('${node.inputs[i]}') must be a constant`);
        return v;
      },
      own,
    });
    steps.push({ kernel, inputs: node.inputs, output: node.outputs[0], release: [] });
  }
  for (const [name, v] of graph.values)
    if (v.data && v.dtype === 'float32' && graph.nodes.some((n) => n.inputs.includes(name))) {
      const laid = v.shape.length === 4 ? tf.transpose(tf.tensor(v.data as Float32Array, v.shape as number[]), toNhwc) : tf.tensor(v.data as Float32Array, v.shape as number[]);
      constants.set(name, own(laid));
    }
  const keep = new Set([...graph.inputs, ...constants.keys()]);
  const planned = steps.map((s, i) => ({ ...s, release: s.inputs.filter((x) => x !== '' && lastUse.get(x) === i && !keep.has(x)) }));

  function checkInput(name: string, t: FloatTensor): void {
    const want = graph.values.get(name)!.shape;
    const ok = t.shape.length === want.length && want.every((d, i) => typeof d === 'string' || d === t.shape[i]);
    if (!ok) fail('DATA_SHAPE', `${graph.source}: input '${name}' expects shape ${formatShape(want)}, got ${formatShape(t.shape)}`);
    if (t.data.length !== t.shape.reduce((a, b) => a * b, 1)) fail('DATA_SHAPE', `input '${name}': ${t.data.length} values for shape ${formatShape(t.shape)}`);
  }

  return {
    graph,
    backend,
    run(inputs, outputs = graph.outputs) {
      const wanted = new Set(outputs);
      for (const o of outputs) if (!graph.values.has(o)) fail('MISSING_TENSOR', `${graph.source}: no value named '${o}'`);
      const env = new Map<string, tf.Tensor>(constants);
      const result = new Map<string, FloatTensor>();
      const collect = (name: string, t: tf.Tensor) => {
        const nchw = t.rank === 4 ? tf.transpose(t, toNchw) : t;
        result.set(name, { shape: nchw.shape, data: nchw.dataSync() as Float32Array });
        if (nchw !== t) nchw.dispose();
      };
      try {
        for (const name of graph.inputs) {
          const t = inputs[name];
          if (!t) fail('DATA_SHAPE', `${graph.source}: input '${name}' was not given`);
          checkInput(name, t);
          const x = tf.tensor(t.data, [...t.shape]);
          env.set(name, t.shape.length === 4 ? tf.tidy(() => tf.transpose(x, toNhwc)) : x);
          if (t.shape.length === 4) x.dispose();
          if (wanted.has(name)) collect(name, env.get(name)!);
        }
        for (const step of planned) {
          const y = tf.tidy(() => step.kernel(step.inputs.map((x) => (x === '' ? undefined : env.get(x)))));
          env.set(step.output, y);
          if (wanted.has(step.output)) collect(step.output, y);
          for (const r of step.release) env.get(r)?.dispose();
        }
      } finally {
        for (const [name, t] of env) if (!constants.has(name) && !t.isDisposed) t.dispose();
      }
      return result;
    },
    dispose() {
      for (const t of owned) t.dispose();
    },
  };
}

