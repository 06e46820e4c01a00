import { buildGraph } from '../../src/ir/build.js';
import type { Graph, Node, Value } from '../../src/ir/graph.js';
import type { Dim } from '../../src/ir/shape.js';
import { createFloatExecutor } from '../../src/exec/float-executor.js';

/** Deterministic pseudo-random floats in [−1, 1) (Park–Miller), for fixtures made by code. */
export function randomFloats(n: number, seed = 1): Float32Array {
  let s = seed;
  return new Float32Array(n).map(() => {
    s = (s * 16807) % 2147483647;
    return (s / 2147483647) * 2 - 1;
  });
}

export const floats = (name: string, shape: number[], seed = 7): Value => ({
  name, dtype: 'float32', shape, data: randomFloats(shape.reduce((a, b) => a * b, 1), seed),
});
export const int64s = (name: string, values: number[]): Value => ({ name, dtype: 'int64', shape: [values.length], data: BigInt64Array.from(values, BigInt) });
export const scalar = (name: string, v: number): Value => ({ name, dtype: 'float32', shape: [], data: Float32Array.of(v) });
export const node = (op: string, inputs: string[], output: string, attrs: Node['attrs'] = {}): Node => ({ name: output, op, inputs, outputs: [output], attrs });

export function graphOf(input: { name: string; shape: Dim[] }, constants: Value[], nodes: Node[], outputs: string[]): Graph {
  return buildGraph({ name: 'fixture', source: 'fixture', inputs: [{ ...input, dtype: 'float32' }], constants, nodes, outputs });
}

/** Runs a graph's first output on a deterministic input of the given (static) shape. */
export async function runOn(graph: Graph, shape: number[], seed = 3): Promise<Float32Array> {
  const ex = await createFloatExecutor(graph);
  try {
    return ex.run({ [graph.inputs[0]]: { shape, data: randomFloats(shape.reduce((a, b) => a * b, 1), seed).map((x) => 4 * x) } }).get(graph.outputs[0])!.data;
  } finally {
    ex.dispose();
  }
}
