// A PaddleOCR-style text detector end to end (issue 22): the DBNet-like model of test/helpers/detector-net.ts (dynamic
// H×W, BatchNormalization, nearest Resize in three coordinate / rounding modes, Concat, a per-plane and a constant
// [C,1,1] broadcast Add, ConvTranspose, Sigmoid). Imported without an input shape; the float executor against
// onnxruntime at two sizes; then at two input sizes, quantized (RTN W8A8, FlexRound W4A8) from 4 photos and run on 2
// held-out ones by every integer executor: the QDQ export in onnxruntime-node and onnxruntime-web, the .tflite in
// LiteRT.js on both CPU paths, the generated C in QEMU (Cortex-M7) and, reference kernels, on the host under ASan +
// UBSan: zero bytes differ from the integer runtime in the executor's mode. The probability map is also compared
// with the float model's (mask IoU).

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compile, quantize, validate, type ValidateReport } from '../../src/index.js';
import { readFq } from '../../src/quant/fq-file.js';
import { loadModel } from '../../src/load-model.js';
import { summarizeModel } from '../../src/model-summary.js';
import type { QuantizedGraph } from '../../src/ir/quantized-graph.js';
import type { RequantMode } from '../../runtime/requant/index.js';
import { createIntegerRuntime } from '../../runtime/executor.js';
import { runTool } from '../../src/run-tool.js';
import { C_WARNINGS, CLANG_WARNINGS, HARNESS_DIR, writeGenerated } from '../../targets/cortex-m/build.js';
import { C_REQUANT_MODE } from '../../targets/cortex-m/lower.js';
import { generateC } from '../../targets/cortex-m/library.js';
import { runtimeOutputBytes } from '../../targets/cortex-m/prove.js';
import { randomFloats } from '../helpers/graphs.js';
import { detectorNet } from '../helpers/detector-net.js';
import { floatAgreement } from '../helpers/onnx-net.js';
import { data, hasShared } from '../helpers/shared.js';
import { lacksTools } from '../helpers/tools.js';

const dir = mkdtempSync(join(tmpdir(), 'flexq-ocr-detector-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const BYTES = detectorNet();
const MODEL = join(dir, 'detector.onnx');
writeFileSync(MODEL, BYTES);

const PHOTOS = data('imagenet-sample');
// PaddleOCR's detector normalises to about −1..1; the face preset's (pixel/127.5 − 1), squeezed to the input size.
const PREPROCESS = 'mediapipe-face';
const CALIBRATION = { calib: PHOTOS, limit: 4, preprocess: PREPROCESS } as const;
const HELD_OUT = { offset: 500, limit: 2 };

/** Each integer executor and the runtime mode whose bytes it must reproduce. */
const EXECUTORS: readonly { readonly name: string; readonly mode: RequantMode }[] = [
  { name: 'ort-node', mode: 'onnx' },
  { name: 'ort-web', mode: 'onnx' },
  { name: 'litert', mode: 'tflite-xnnpack' },
  { name: 'litert-builtin', mode: 'tflite-builtin' },
  { name: 'qemu-m7', mode: 'tflite-double' },
];

/** The validate report's mismatched output bytes between each executor and its runtime mode, by executor. */
async function mismatchesByExecutor(q: QuantizedGraph, inputShape: number[], executors: typeof EXECUTORS): Promise<{ report: ValidateReport; mismatches: Record<string, number> }> {
  const modes = [...new Set(executors.map((e) => e.mode))];
  const report = await validate(MODEL, q, {
    data: PHOTOS, ...HELD_OUT, preprocess: PREPROCESS, inputShape, modes, executors: ['runtime', ...executors.map((e) => e.name)], task: 'segmentation',
  });
  // The report lists the runtime's modes first, then the executors in the order asked.
  const names = report.executors.map((e) => e.executor).slice(modes.length);
  expect(names).toHaveLength(executors.length);
  const mismatches = Object.fromEntries(executors.map((e, k) => [e.name, report.mismatches[names[k]][`runtime (${e.mode})`]]));
  return { report, mismatches };
}

const SANITIZERS = ['-fsanitize=address,undefined', '-fno-sanitize-recover=all', '-fno-omit-frame-pointer'];

/**
 * The reference kernel set's C (QEMU ran the optimized one) on the host: clean under clang -Weverything, and built
 * with ASan + UBSan it gives the runtime's bytes on two random inputs (the broadcast strides and copy tables in bounds).
 */
async function referenceCOnHost(q: QuantizedGraph, inputShape: number[]): Promise<void> {
  const generated = generateC(q, 'reference');
  expect(generated.files.has('resize_nearest.c') && generated.files.has('add_broadcast.c')).toBe(true);
  const out = join(dir, 'reference-c');
  writeGenerated(generated, out);
  const sources = generated.sources.map((f) => join(out, f));
  const clang = await runTool('clang', [...CLANG_WARNINGS, '-fsyntax-only', `-I${out}`, ...sources]);
  expect(clang.stderr).toBe('');
  const exe = join(out, 'host');
  const gcc = await runTool('gcc', [...C_WARNINGS, '-O1', '-g', ...SANITIZERS, `-I${out}`, ...sources, join(HARNESS_DIR, 'host_main.c'), '-o', exe]);
  expect(gcc.stderr).toBe('');
  const size = inputShape.reduce((a, b) => a * b, 1);
  const inputs = createIntegerRuntime(q, C_REQUANT_MODE).quantizeInput(randomFloats(2 * size, 9));
  writeFileSync(join(out, 'in.bin'), inputs);
  const run = await runTool(exe, [join(out, 'in.bin'), join(out, 'out.bin')]);
  expect(run.stderr).toBe('');
  expect(new Int8Array(readFileSync(join(out, 'out.bin')))).toEqual(runtimeOutputBytes(q, inputs, 2, C_REQUANT_MODE));
}

const zeros = (executors: typeof EXECUTORS) => Object.fromEntries(executors.map((e) => [e.name, 0]));

describe('DBNet-like detector: import and float', () => {
  it('inspect without an input shape: sizes as expressions of the symbolic H×W, BatchNormalization folded into Conv and ConvTranspose', () => {
    const summary = summarizeModel(loadModel(MODEL).graph);
    expect(summary.inputs[0].shape).toEqual(['N', 3, 'H', 'W']);
    // Three stride-2 convs (H/8), the ×4 Resize to stride 2, two ×2 transposed convs: 16·(H/8) = 2H, as an expression of H.
    expect(summary.outputs[0].shape).toEqual(['N', 1, '16·(⌊⌊⌊(H-1)/2⌋/2⌋/2⌋+1)', '16·(⌊⌊⌊(W-1)/2⌋/2⌋/2⌋+1)']);
    expect(summary.ops).toMatchObject({ Conv: 10, ConvTranspose: 2, Resize: 4, Concat: 1, Add: 4, GlobalAveragePool: 1, Sigmoid: 1 });
    expect(summary.ops.BatchNormalization).toBeUndefined();
    expect(summary.ops.Mul).toBeUndefined();
  });

  it('the float executor equals onnxruntime at two input sizes (nearest Resize placed as onnxruntime does)', async () => {
    expect(await floatAgreement(BYTES, [1, 3, 32, 48])).toBeLessThan(1e-5);
    expect(await floatAgreement(BYTES, [1, 3, 64, 64])).toBeLessThan(1e-5);
  });
});

describe.skipIf(!hasShared || lacksTools('arm-gcc', 'qemu-arm', 'clang'))('DBNet-like detector: integer executors bit-exact with the runtime', () => {
  const small = [1, 3, 32, 48];

  it('RTN W8A8 at 32×48: onnxruntime-node/-web, LiteRT.js (both paths) and QEMU give the runtime\'s bytes', async () => {
    const q = await quantize(MODEL, { ...CALIBRATION, method: 'rtn', wbits: 8, abits: 8, seed: 0, inputShape: small });
    const { report, mismatches } = await mismatchesByExecutor(q, small, EXECUTORS);
    expect(mismatches).toEqual(zeros(EXECUTORS));
    // Measured 0.974 (runtime, onnx mode) on these 2 photos: the int8 probability map keeps the float map's text mask.
    expect(report.executors[0].segmentation!.maskIou).toBeGreaterThan(0.9);
    await referenceCOnHost(q, small);
  }, 240_000);

  it('FlexRound W4A8 at 32×48 (a few iterations): every executor gives the runtime\'s bytes', async () => {
    const q = await quantize(MODEL, { ...CALIBRATION, method: 'flexround', wbits: 4, abits: 8, iters: 20, batch: 4, seed: 0, inputShape: small });
    expect(q.info.method).toBe('flexround');
    const { mismatches } = await mismatchesByExecutor(q, small, EXECUTORS);
    expect(mismatches).toEqual(zeros(EXECUTORS));
  }, 240_000);

  it('compile --target cortex-m7 at 64×64 (a second size of the same model): QEMU proof, then the .fq in every other executor', async () => {
    const inputShape = [1, 3, 64, 64];
    const folder = join(dir, 'm7');
    const r = await compile(MODEL, { ...CALIBRATION, check: 2, method: 'rtn', wbits: 8, abits: 8, seed: 0, batch: 2, target: 'cortex-m7', output: folder, inputShape });
    expect(r.report).toMatchObject({ bitExact: true, checked: 2, mismatchedBytes: 0 });
    expect(r.files.some((f) => f.endsWith('model.tflite'))).toBe(true);
    const q = readFq(join(folder, 'model.fq'));
    expect(q.graph.values.get(q.graph.outputs[0])!.shape.slice(1)).toEqual([1, 128, 128]);
    const others = EXECUTORS.filter((e) => !e.name.startsWith('qemu'));
    const { mismatches } = await mismatchesByExecutor(q, inputShape, others);
    expect(mismatches).toEqual(zeros(others));
  }, 240_000);
});
