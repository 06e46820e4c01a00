// Runs a quantized graph in flexq's integer runtime and, exported to .tflite, in a real TFLite interpreter on
// the same int8 inputs, and counts the bytes of all outputs that differ. The interpreter gets the input as floats on the
// input grid (exact grid points, so its QUANTIZE recovers the same integers) and its dequantized outputs are
// mapped back to integers (exact: a float32 dequantized int8 divides back to the integer).

import { createIntegerRuntime } from '../../../runtime/executor.js';
import type { RequantMode } from '../../../runtime/requant/index.js';
import { tfliteBytes, type TfliteExportOptions } from '../../../src/export/tflite/index.js';
import { permuteInt8 } from '../../../src/export/tflite/layout.js';
import type { QuantizedGraph } from '../../../src/ir/quantized-graph.js';
import { mulberry32 } from '../../../src/random.js';
import type { TfliteInterpreter } from '../../../targets/tflite/interpreter.js';

export type OpenInterpreter = (model: Uint8Array, source: string) => Promise<TfliteInterpreter>;

export interface Comparison {
  readonly outputs: number;
  readonly mismatches: number;
  readonly loadLog: readonly string[];
}

/** NCHW sample ↔ the interpreter's NHWC order (other ranks are the same in both). */
const toNhwc = (v: Int8Array, sample: readonly number[]) => (sample.length === 3 ? permuteInt8(v, [1, ...sample], [0, 2, 3, 1]) : v);
const toNchw = (v: Int8Array, sample: readonly number[]) => (sample.length === 3 ? permuteInt8(v, [1, sample[1], sample[2], sample[0]], [0, 3, 1, 2]) : v);

export function randomInt8Inputs(count: number, size: number, seed: number): Int8Array[] {
  const random = mulberry32(seed);
  return Array.from({ length: count }, () => Int8Array.from({ length: size }, () => Math.floor(random() * 256) - 128));
}

export async function compareWithInterpreter(
  q: QuantizedGraph,
  open: OpenInterpreter,
  exportOptions: TfliteExportOptions,
  mode: RequantMode,
  inputs: readonly Int8Array[],
): Promise<Comparison> {
  const inName = q.graph.inputs[0];
  const sample = q.graph.values.get(inName)!.shape.slice(1) as number[];
  const inGrid = q.activations.get(inName)!;
  const runtime = createIntegerRuntime(q, mode);
  const interpreter = await open(tfliteBytes(q, exportOptions), q.graph.source);
  let [outputs, mismatches] = [0, 0];
  try {
    for (const x of inputs) {
      const expected = runtime.run({ shape: [1, ...sample], data: x });
      const ys = await interpreter.run(Float32Array.from(toNhwc(x, sample), (v) => Math.fround(inGrid.scale * (v - inGrid.zeroPoint))));
      // Every graph output, in the graph's order (the export's order too).
      q.graph.outputs.forEach((name, k) => {
        const [want, grid] = [expected.get(name)!.data, q.activations.get(name)!];
        const outSample = q.graph.values.get(name)!.shape.slice(1) as number[];
        const got = toNchw(Int8Array.from(ys[k], (v) => Math.round(v / grid.scale) + grid.zeroPoint), outSample);
        for (let i = 0; i < want.length; i++) if (want[i] !== got[i]) mismatches++;
        outputs += want.length;
      });
    }
  } finally {
    interpreter.dispose();
  }
  return { outputs, mismatches, loadLog: interpreter.loadLog };
}
