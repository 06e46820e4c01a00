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
import type { Value } from '../../../src/ir/graph.js';
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

/** A one-input graph of [PLANES, S, S] samples on the given grids, RTN (weights per tensor). */
function planesGraph(nodes: ReturnType<typeof node>[], grids: Record<string, ActivationQuant>, outputs: string[], constants: Value[] = []): QuantizedGraph {
  const graph = graphOf({ name: 'x', shape: ['N', PLANES, S, S] }, constants, nodes, outputs);
  const info = { flexqVersion: 'test', method: 'rtn' as const, wbits: 8, abits: 8, seed: 0, model: 'ops.onnx', calibrationSamples: 0 };
  return quantizeRtn({ ...graph, source: 'ops' }, new Map(Object.entries(grids)), { wbits: 8, edgeBits: 8 }, info);
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
    q: planesGraph([node('GlobalAveragePool', ['x'], 'g'), node('Sigmoid', ['g'], 's'), node('Mul', ['x', 's'], 'y')], SE_GRIDS, ['y', 's']),
    inputs: seInputs,
    perPlane: true,
    operands: (output) => Array.from(seInputs, (v, i) => [v, output[PLANES * S * S + Math.floor(i / (S * S))]] as const),
  },
  {
    // fp32(0.034² / 81.7…) < 2^−16: outside the delegate's range, TFLite's double-rounding MUL (op-cases.ts' x·x).
    name: 'x·x below the delegate\'s range (TFLite\'s double rounding)',
    q: planesGraph([node('Mul', ['x', 'x'], 'y')], { x: grid(0.034, -128), y: grid(81.71533966064453, 0) }, ['y']),
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

/** A Resize's scales input. */
const resizeScales = (name: string, values: number[]): Value => ({ name, dtype: 'float32', shape: [values.length], data: Float32Array.from(values) });

/** Weights k·2^−6 with integer k, the largest |k| 127: RTN's per-tensor scale is exactly 2^−6 and the integers are k. */
function powerOfTwoWeights(name: string, shape: number[], seed: number): Value {
  const data = randomFloats(shape.reduce((a, b) => a * b, 1), seed).map((v) => Math.round(v * 127) / 64);
  data[0] = 127 / 64;
  return { name, dtype: 'float32', shape, data };
}

/**
 * Softmax over the PLANES channels of each pixel (slices of 4, S·S apart), on the input grid 1/4: pixel i < 256 holds
 * m = 1 + i % 4 copies of 127 and the rest ≤ −60 (exp below 2^−67: each maximum's share is 1/m to the float bit), the
 * other pixels every int8 value in turn (exp arguments 0..−63.75).
 */
function softmaxInputs(): Int8Array {
  const bytes = new Int8Array(PLANES * S * S);
  for (let i = 0; i < S * S; i++)
    for (let c = 0; c < PLANES; c++) bytes[c * S * S + i] = i < 256 ? (c <= i % 4 ? 127 : -60 - ((i * 7 + c * 13) % 68)) : ((i * 37 + c * 101) % 256) - 128;
  return bytes;
}

interface XnnpackOpCase {
  readonly name: string;
  readonly q: QuantizedGraph;
  readonly inputs: Int8Array;
  /** The kernel model.c calls in --rounding xnnpack. */
  readonly kernel: string;
  /** Checks of the runtime's tflite-xnnpack bytes that show the case reaches what tells its rule from the other builds'. */
  distinguishes(want: Int8Array): void;
}

const allValues = planeInputs([0, 0, 0, 0]);
/** Bytes that differ between two outputs. */
const differing = (a: Int8Array, b: Int8Array): number => a.reduce((n, v, i) => n + (v === b[i] ? 0 : 1), 0);

const XNNPACK_OP_CASES: readonly XnnpackOpCase[] = [
  (() => {
    // 2× half_pixel weights are ¼ and ¾ (512, 1536 of 2048): many sums end on exactly ½ of the output step.
    const grids = { x: grid(0.05, -7), up: grid(0.05, -7), corners: grid(0.05, -7) };
    const q = planesGraph([
      node('Resize', ['x', '', 'half'], 'up', { mode: 'linear', coordinateTransformationMode: 'half_pixel' }),
      node('Resize', ['x', '', 'corners_scales'], 'corners', { mode: 'linear', coordinateTransformationMode: 'align_corners' }),
    ], grids, ['up', 'corners'], [resizeScales('half', [1, 1, 2, 2]), resizeScales('corners_scales', [1, 1, 1.5, 1.5])]);
    return {
      name: 'bilinear Resize 2× half_pixel and 1.5× align_corners (XNNPACK\'s 11-bit weights)', q, inputs: allValues, kernel: 'flexq_resize_bilinear_s8_xnnpack',
      // TFLite's 10-bit interpolation (the other builds' kernel) gives other bytes
      distinguishes: (want) => expect(differing(want, runtimeOutputBytes(q, allValues, 1, 'tflite-single'))).toBe(72),
    };
  })(),
  (() => {
    // M = 2^−4 · 2^−6 / 2^−5 = 2^−5: every accumulator ≡ 16 (mod 32) is a tie, which XNNPACK rounds to even.
    const grids = { x: grid(2 ** -4, -7), y: grid(2 ** -5, 3) };
    const q = planesGraph([node('ConvTranspose', ['x', 'w'], 'y', { kernel: [3, 3], strides: [2, 2], pads: [1, 1, 0, 0], dilations: [1, 1], group: 1, outputPadding: [0, 0] })],
      grids, ['y'], [powerOfTwoWeights('w', [PLANES, 3, 3, 3], 31)]);
    return {
      name: 'ConvTranspose 3×3 stride 2 on power-of-two grids (ties of XNNPACK\'s fp32 rule)', q, inputs: allValues, kernel: 'flexq_conv_transpose_s8',
      distinguishes: (want) => {
        expect(q.weights.get('w')!.scale).toBe(2 ** -6);
        expect(differing(want, runtimeOutputBytes(q, allValues, 1, 'tflite-single'))).toBe(31);
      },
    };
  })(),
  (() => {
    const inputs = softmaxInputs();
    // Output step fp32(0.2): a share of 1/2 is 2.5 steps and one of 1/4 1.25, to the float bit: 3 (ties away) and 1 steps.
    const grids = { x: grid(0.25, 0), ties: grid(0.2, -128), unit: unitIntervalQuant(8) };
    const q = planesGraph([node('Softmax', ['x'], 'ties', { axis: 1 }), node('Softmax', ['x'], 'unit', { axis: 1 })], grids, ['ties', 'unit']);
    return {
      name: 'Softmax over 4 channels, one output on a grid of ties, one on the unit grid (fdlibm\'s exp in double)', q, inputs, kernel: 'flexq_softmax_s8_float',
      // pixel 1 (m = 2) and pixel 3 (m = 4), channel 0: the maxima's share on the tie grid
      distinguishes: (want) => expect([want[1], want[3]]).toEqual([3 - 128, 1 - 128]),
    };
  })(),
];

describe('C Resize, ConvTranspose and Softmax in --rounding xnnpack on the host under ASan + UBSan: the runtime\'s tflite-xnnpack bytes', () => {
  it.each(XNNPACK_OP_CASES.flatMap((c) => KERNEL_SETS.map((kernels) => [c.name, kernels, c] as const)))('%s, %s kernels', async (_, kernels, c) => {
    const generated = generateC(c.q, kernels, { rounding: 'xnnpack' });
    expect(generated.files.get('model.c')).toContain(`${c.kernel}(`);
    const want = runtimeOutputBytes(c.q, c.inputs, 1, 'tflite-xnnpack');
    c.distinguishes(want);
    expect(await hostOutputBytes(generated, join(dir, `xnnpack-${XNNPACK_OP_CASES.indexOf(c)}-${kernels}`), c.inputs)).toEqual(want);
  });

  it.skipIf(lacksTools('clang'))('their C is clean under clang -Weverything', async () => {
    for (const c of XNNPACK_OP_CASES) {
      const generated = generateC(c.q, 'optimized', { rounding: 'xnnpack' });
      const out = join(dir, `xnnpack-clang-${XNNPACK_OP_CASES.indexOf(c)}`);
      writeGenerated(generated, out);
      const clang = await runTool('clang', [...CLANG_WARNINGS, '-fsyntax-only', `-I${out}`, ...generated.sources.map((s) => join(out, s))]);
      expect(clang.stderr).toBe('');
    }
  });
});
