// The C kernels of Mul, Resize, ConvTranspose, Pad, Transpose and Concat on the attribute cases the real models do not
// reach: Mul broadcast both ways, Resize with align_corners, ConvTranspose with stride 2 and uneven crops, Pad of
// H and W, a 4-axis Transpose, Concat of inputs on their own grids (the rescale tables) and two outputs. A small
// ONNX net, W8A8 RTN, its generated C built for the host under ASan + UBSan: every output byte equals the runtime's.
// Then the Mul in --rounding xnnpack (mode tflite-xnnpack) on chosen grids: ties of XNNPACK's fp32 rule, and a product
// scale below its delegate's range (TFLite's double rounding).

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeNpyFloat32 } from '../../../src/api/npy.js';
import { quantize } from '../../../src/api/quantize.js';
import type { ActivationQuant, QuantizedGraph } from '../../../src/ir/quantized-graph.js';
import { quantizeRtn } from '../../../src/quant/rtn.js';
import { unitIntervalQuant } from '../../../src/quant/schemes.js';
import { runTool } from '../../../src/run-tool.js';
import { tfliteMul } from '../../../runtime/kernels/mul.js';
import { createIntegerRuntime } from '../../../runtime/executor.js';
import { C_WARNINGS, CLANG_WARNINGS, HARNESS_DIR, writeGenerated } from '../../../targets/cortex-m/build.js';
import { C_REQUANT_MODE, KERNEL_SETS } from '../../../targets/cortex-m/lower.js';
import type { GeneratedC } from '../../../targets/cortex-m/emit-c.js';
import { generateC } from '../../../targets/cortex-m/library.js';
import { runtimeOutputBytes } from '../../../targets/cortex-m/prove.js';
import { graphOf, node, randomFloats } from '../../helpers/graphs.js';
import { ints, OnnxNet, str } from '../../helpers/onnx-net.js';
import { lacksTools } from '../../helpers/tools.js';
import { grid } from '../tflite/op-cases.js';

const dir = mkdtempSync(join(tmpdir(), 'flexq-data-ops-c-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const SAMPLES = 4;
/** Input height and width: planes of 400, more than 256, so the optimized set's per-plane Mul table is taken. */
const S = 20;
const SANITIZERS = ['-fsanitize=address,undefined', '-fno-sanitize-recover=all', '-fno-omit-frame-pointer'];

/** x [1,3,S,S] → two outputs: a Concat of four flattened branches, and a transposed-conv map. */
function net(): Uint8Array {
  const n = new OnnxNet([1, 3, S, S]);
  const a = n.conv('x', 3, 4, 3, { pad: 1 });
  const b = n.conv('x', 3, 4, 1);
  const gate = n.op('GlobalAveragePool', [b]); // [1,4,1,1]
  const row = n.op('AveragePool', [a], [ints('kernel_shape', [S, 1])]); // [1,4,1,S]
  const se = n.op('Mul', [a, gate]);
  const outer = n.op('Mul', [gate, row]); // both operands broadcast: [1,4,1,1] × [1,4,1,S]
  const resized = n.op('Resize', [se, '', n.float32([1, 1, 1.5, 2], [4])], [str('mode', 'linear'), str('coordinate_transformation_mode', 'align_corners')]);
  const padded = n.op('Pad', [resized, n.int64([0, 1, 2, 0, 0, 0, 1, 3])]); // [1,5,1.5·S+3,2·S+3]
  const moved = n.op('Transpose', [padded], [ints('perm', [0, 2, 3, 1])]);
  const flat = (v: string) => n.op('Reshape', [v, n.int64([1, -1])]);
  const joined = n.op('Concat', [flat(moved), flat(outer), flat(se), flat(b)], [{ name: 'axis', type: 2, i: 1 }]);
  const w = n.weight([4, 2, 3, 3], 0.3);
  const up = n.op('ConvTranspose', [se, w, n.weight([2], 0.1)], [ints('strides', [2, 2]), ints('pads', [1, 0, 0, 1])]);
  return n.bytesWithOutputs([joined, up]);
}

/** The generated C built for the host under ASan + UBSan (no compiler output), run on count samples: its output bytes. */
async function hostOutputBytes(generated: GeneratedC, out: string, inputs: Int8Array): Promise<Int8Array> {
  writeGenerated(generated, out);
  const exe = join(out, 'host');
  const gcc = await runTool('gcc', [...C_WARNINGS, '-O1', '-g', ...SANITIZERS, `-I${out}`, ...generated.sources.map((s) => join(out, s)), join(HARNESS_DIR, 'host_main.c'), '-o', exe]);
  expect(gcc.stderr).toBe('');
  writeFileSync(join(out, 'in.bin'), inputs);
  const run = await runTool(exe, [join(out, 'in.bin'), join(out, 'out.bin')]);
  expect(run.stderr).toBe('');
  return new Int8Array(readFileSync(join(out, 'out.bin')));
}

describe('C kernels of the data-movement and broadcast ops on the host under ASan + UBSan', () => {
  let q: QuantizedGraph;
  let inputs: Int8Array;
  beforeAll(async () => {
    const model = join(dir, 'ops.onnx');
    writeFileSync(model, net());
    const calib = join(dir, 'x.npy');
    writeFileSync(calib, encodeNpyFloat32([SAMPLES, 3, S, S], randomFloats(SAMPLES * 3 * S * S, 5).map((v) => 2 * v)));
    q = await quantize(model, { calib, method: 'rtn', wbits: 8, abits: 8, seed: 0 });
    inputs = createIntegerRuntime(q, C_REQUANT_MODE).quantizeInput(randomFloats(SAMPLES * 3 * S * S, 6).map((v) => 2 * v));
  });

  it.each(KERNEL_SETS)('%s kernels: both outputs equal the runtime\'s bytes', async (kernels) => {
    const generated = generateC(q, kernels);
    expect(generated.outputs.map((o) => o.shape)).toEqual([[5 * 33 * 43 + 4 * S + 2 * 4 * S * S], [2, 2 * S, 2 * S]]);
    expect(generated.files.has('mul_per_plane.c')).toBe(kernels === 'optimized');
    const bytes = await hostOutputBytes(generated, join(dir, kernels), inputs);
    expect(bytes).toEqual(runtimeOutputBytes(q, inputs, SAMPLES, C_REQUANT_MODE));
  });
});

/** Squeeze-excite planes: 4 channels of S·S, the gate one value per channel. */
const PLANES = 4;

/** A one-input graph of [PLANES, S, S] samples on the given grids, RTN (no weights). */
function mulGraph(nodes: ReturnType<typeof node>[], grids: Record<string, ActivationQuant>, outputs: string[]): QuantizedGraph {
  const graph = graphOf({ name: 'x', shape: ['N', PLANES, S, S] }, [], nodes, outputs);
  const info = { flexqVersion: 'test', method: 'rtn' as const, wbits: 8, abits: 8, seed: 0, model: 'mul.onnx', calibrationSamples: 0 };
  return quantizeRtn({ ...graph, source: 'mul' }, new Map(Object.entries(grids)), { wbits: 8, edgeBits: 8 }, info);
}

/** One sample: each channel's plane holds every int8 value once, then S·S − 256 copies of fill[c] (its mean, so its gate). */
function planeInputs(fill: readonly number[]): Int8Array {
  const bytes = new Int8Array(PLANES * S * S);
  fill.forEach((f, c) => {
    for (let i = 0; i < S * S; i++) bytes[c * S * S + i] = i < 256 ? i - 128 : f;
  });
  return bytes;
}

interface MulCase {
  readonly name: string;
  readonly q: QuantizedGraph;
  readonly inputs: Int8Array;
  /** Whether the optimized set takes the per-plane table. */
  readonly perPlane: boolean;
  /** The Mul's raw int8 operand pairs on the inputs, given the sample's output bytes. */
  operands(output: Int8Array): (readonly [number, number])[];
}

const SE_GRIDS = { x: grid(2 ** -4, -7), g: grid(2 ** -4, -7), s: unitIntervalQuant(8), y: grid(2 ** -5, 3) };
const seInputs = planeInputs([-128, -60, 0, 127]);
const everyValue = planeInputs([0, 0, 0, 0]);

const MUL_CASES: readonly MulCase[] = [
  {
    // M = 2^−4 · 2^−8 / 2^−5 = 2^−7: a product ≡ 64 (mod 128) is a tie, which XNNPACK rounds to even and TFLite's MUL up.
    // The gate σ(mean x) is an output too (it is each channel's second operand); planes of S·S > 256 take the per-plane table.
    name: 'squeeze-excite on power-of-two grids (ties of XNNPACK\'s rule)',
    q: mulGraph([node('GlobalAveragePool', ['x'], 'g'), node('Sigmoid', ['g'], 's'), node('Mul', ['x', 's'], 'y')], SE_GRIDS, ['y', 's']),
    inputs: seInputs,
    perPlane: true,
    operands: (output) => Array.from(seInputs, (v, i) => [v, output[PLANES * S * S + Math.floor(i / (S * S))]] as const),
  },
  {
    // fp32(0.034² / 81.7…) < 2^−16: outside the delegate's range, TFLite's double-rounding MUL (op-cases.ts' x·x).
    name: 'x·x below the delegate\'s range (TFLite\'s double rounding)',
    q: mulGraph([node('Mul', ['x', 'x'], 'y')], { x: grid(0.034, -128), y: grid(81.71533966064453, 0) }, ['y']),
    inputs: everyValue,
    perPlane: false,
    operands: () => Array.from(everyValue, (v) => [v, v] as const),
  },
];

describe('C Mul in --rounding xnnpack on the host under ASan + UBSan: the runtime\'s tflite-xnnpack MUL', () => {
  it.each(MUL_CASES.flatMap((c) => KERNEL_SETS.map((kernels) => [c.name, kernels, c] as const)))('%s, %s kernels', async (_, kernels, c) => {
    const generated = generateC(c.q, kernels, { rounding: 'xnnpack' });
    expect(generated.files.has('mul_per_plane.c')).toBe(c.perPlane && kernels === 'optimized');
    const want = runtimeOutputBytes(c.q, c.inputs, 1, 'tflite-xnnpack');
    expect(await hostOutputBytes(generated, join(dir, `mul-${MUL_CASES.indexOf(c)}-${kernels}`), c.inputs)).toEqual(want);
  });

  it.skipIf(lacksTools('clang'))('the squeeze-excite case\'s C in both kernel sets is clean under clang -Weverything', async () => {
    for (const kernels of KERNEL_SETS) {
      const generated = generateC(MUL_CASES[0].q, kernels, { rounding: 'xnnpack' });
      const out = join(dir, `mul-clang-${kernels}`);
      writeGenerated(generated, out);
      const clang = await runTool('clang', [...CLANG_WARNINGS, '-fsyntax-only', `-I${out}`, ...generated.sources.map((s) => join(out, s))]);
      expect(clang.stderr).toBe('');
    }
  });

  it.each(MUL_CASES)('$name: on some operand pair of the inputs XNNPACK\'s rule and TFLite\'s double rounding differ', (c) => {
    const mul = c.q.graph.nodes.find((n) => n.op === 'Mul')!;
    const [a, b, y] = [...mul.inputs, mul.outputs[0]].map((t) => c.q.activations.get(t)!);
    const [xnnpack, double] = (['tflite-xnnpack', 'tflite-double'] as const).map((rule) => tfliteMul(rule, a, b, y));
    const pairs = c.operands(runtimeOutputBytes(c.q, c.inputs, 1, 'tflite-xnnpack'));
    expect(pairs.filter(([u, v]) => xnnpack(u, v) !== double(u, v)).length).toBeGreaterThan(0);
  });
});
