// compile for the Cortex-M7 (mps2-an500: 4 MiB of data RAM, which Selfie Segmentation's 0.9 MiB arena needs) of the
// three real-world models whose ops the classifiers lack: ppocr-cls (squeeze-excite Mul, HardSigmoid, HardSwish),
// Selfie Segmentation (Mul, bilinear Resize, ConvTranspose, Sigmoid) and BlazeFace (Pad, Transpose, Concat, two
// outputs). W8A8 RTN calibrated on 2 photos, proven on 2 others in QEMU: every output byte equals the runtime's; the
// folder's C is also clean under clang -Weverything and, built for the host, under ASan + UBSan.
// ppocr-cls and Selfie Segmentation are proven whole in --rounding xnnpack too (XNNPACK's Mul, Resize and fp32
// ConvTranspose, the double Softmax), on the model.fq compile wrote.
// Few inputs, to stay fast: the mcu bench and `flexq compile --check N` prove on more.

import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compile } from '../../../src/index.js';
import { readFq } from '../../../src/quant/fq-file.js';
import { openDataset, type DataSpec } from '../../../calibration/index.js';
import { runTool } from '../../../src/run-tool.js';
import { buildElf, C_WARNINGS, CLANG_WARNINGS, HARNESS_DIR } from '../../../targets/cortex-m/build.js';
import { runtimeOutputBytes } from '../../../targets/cortex-m/prove.js';
import { runInQemu } from '../../../targets/cortex-m/qemu.js';
import { CORTEX_M_CORES } from '../../../targets/cortex-m/boards.js';
import { generateC } from '../../../targets/cortex-m/library.js';
import type { QuantizedGraph } from '../../../src/ir/quantized-graph.js';
import { createIntegerRuntime, dequantize } from '../../../runtime/executor.js';
import { qemuExecutor } from '../../../targets/cortex-m/executor.js';
import { C_REQUANT_MODE } from '../../../targets/cortex-m/lower.js';
import { data, model } from '../../helpers/shared.js';
import { lacksTools } from '../../helpers/tools.js';

const out = mkdtempSync(join(tmpdir(), 'flexq-real-models-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));
const PHOTOS = data('imagenet-sample');

const CASES = [
  // ppocr-cls's preprocessing, (pixel/255 − 0.5)/0.5, is the face preset's −1..1, resized to the given 48×192.
  // hostChecks: the two models that between them call every new kernel (ppocr-cls's Mul is Selfie's).
  // xnnpackPhotos: how many proof photos the --rounding xnnpack build runs on in QEMU (Selfie's inference is the long one).
  { name: 'ppocr-cls', file: 'ppocr-cls/model.onnx', preprocess: 'mediapipe-face', inputShape: [1, 3, 48, 192], hostChecks: false, xnnpackPhotos: 2 },
  { name: 'Selfie Segmentation', file: 'mediapipe-selfie-segmentation/model.tflite', preprocess: 'mediapipe-selfie', hostChecks: true, xnnpackPhotos: 1 },
  { name: 'BlazeFace', file: 'mediapipe-face-detection/model.tflite', preprocess: 'mediapipe-face', hostChecks: true, xnnpackPhotos: 0 },
] as const;

/** Kernels each model's --rounding xnnpack C must call (the ops whose C differs from the other roundings'). */
const XNNPACK_KERNELS: Readonly<Record<string, readonly string[]>> = {
  'ppocr-cls': ['flexq_mul_s8_per_plane', 'flexq_softmax_s8_float'],
  'Selfie Segmentation': ['flexq_resize_bilinear_s8_xnnpack', 'flexq_conv_transpose_s8'],
};

const SANITIZERS = ['-fsanitize=address,undefined', '-fno-sanitize-recover=all', '-fno-omit-frame-pointer'];

/** The float proof photos (from the third on, as compile's proof takes them) in the graph's sample shape. */
async function proofPhotos(q: QuantizedGraph, preprocess: DataSpec['preprocess'], count: number): Promise<Float32Array> {
  const sample = q.graph.values.get(q.graph.inputs[0])!.shape.slice(1) as number[];
  const ds = await openDataset({ path: PHOTOS, preprocess, offset: 2, limit: count, sampleShape: sample });
  let floats = new Float32Array(0);
  for await (const b of ds.batches(count)) floats = b.data.slice();
  return floats;
}

/**
 * The compiled folder's C on the host: clean under clang's warnings, and under gcc's with ASan + UBSan it gives the
 * runtime's bytes for the first proof input (every output).
 */
async function hostChecks(folder: string, preprocess: DataSpec['preprocess']): Promise<void> {
  const dir = join(folder, 'c');
  const sources = readdirSync(dir).filter((f) => f.endsWith('.c')).map((f) => join(dir, f));
  const clang = await runTool('clang', [...CLANG_WARNINGS, '-fsyntax-only', `-I${dir}`, ...sources]);
  expect(clang.stderr).toBe('');
  const exe = join(folder, 'host');
  const gcc = await runTool('gcc', [...C_WARNINGS, '-O1', '-g', ...SANITIZERS, `-I${dir}`, ...sources, join(HARNESS_DIR, 'host_main.c'), '-o', exe]);
  expect(gcc.stderr).toBe('');
  const q = readFq(join(folder, 'model.fq'));
  const inputs = createIntegerRuntime(q, C_REQUANT_MODE).quantizeInput(await proofPhotos(q, preprocess, 1));
  writeFileSync(join(folder, 'in.bin'), inputs);
  const run = await runTool(exe, [join(folder, 'in.bin'), join(folder, 'out.bin')]);
  expect(run.stderr).toBe('');
  expect(run.exitCode).toBe(0);
  expect(new Int8Array(readFileSync(join(folder, 'out.bin')))).toEqual(runtimeOutputBytes(q, inputs, 1, C_REQUANT_MODE));
}

/**
 * The compiled model.fq in --rounding xnnpack (optimized kernels) on the M7, one QEMU run on the first `count` proof
 * photos: every output byte equals the runtime's in tflite-xnnpack. Returns model.c, to name the kernels it covered.
 */
async function xnnpackProof(folder: string, preprocess: DataSpec['preprocess'], count: number): Promise<string> {
  const q = readFq(join(folder, 'model.fq'));
  const inputs = createIntegerRuntime(q, 'tflite-xnnpack').quantizeInput(await proofPhotos(q, preprocess, count));
  const c = generateC(q, 'optimized', { rounding: 'xnnpack', board: 'cortex-m7' });
  const core = CORTEX_M_CORES['cortex-m7'];
  const run = await runInQemu((await buildElf(c, core, q.graph.source)).elf, core, inputs, count, c.outputBytes, { icount: false });
  const want = runtimeOutputBytes(q, inputs, count, 'tflite-xnnpack');
  expect(run.outputs.length).toBe(want.length);
  expect(want.filter((v, i) => v !== run.outputs[i]).length).toBe(0);
  return c.files.get('model.c')!;
}

describe.skipIf(lacksTools('arm-gcc', 'qemu-arm', 'clang'))('compile --target cortex-m7 of real-world models', () => {
  for (const c of CASES) {
    it(`${c.name}: builds, runs in QEMU, bit-exact with the integer runtime on every output`, async () => {
      const folder = join(out, c.name);
      const r = await compile(model(c.file), {
        calib: PHOTOS, limit: 2, check: 2, preprocess: c.preprocess, method: 'rtn', wbits: 8, abits: 8, seed: 0, batch: 2,
        target: 'cortex-m7', output: folder, ...('inputShape' in c ? { inputShape: [...c.inputShape] } : {}),
      });
      expect(r.report).toMatchObject({ bitExact: true, checked: 2, mismatchedBytes: 0 });
      expect(r.proof).toMatchObject({ offset: 2, count: 2, calibrationData: false });
      // The TFLite export takes every op of the three (HardSigmoid as a GATHER table): compile writes model.tflite too.
      expect(r.files.some((f) => f.endsWith('model.tflite'))).toBe(true);
      expect(r.summary).not.toContain('model.tflite not written');
      if (c.hostChecks) await hostChecks(folder, c.preprocess);
      if (c.xnnpackPhotos > 0) {
        const modelC = await xnnpackProof(folder, c.preprocess, c.xnnpackPhotos);
        for (const kernel of XNNPACK_KERNELS[c.name]) expect(modelC).toContain(`${kernel}(`);
      }
    });
  }

  it('BlazeFace: model.h lays the two outputs back to back; the qemu-m7 executor returns each on its grid', async () => {
    const folder = join(out, 'BlazeFace');
    const header = readFileSync(join(folder, 'c', 'model.h'), 'utf8');
    expect(header).toContain('#define FLEXQ_MODEL_OUTPUT_COUNT 2');
    expect(header).toContain(`#define FLEXQ_MODEL_OUTPUT_SIZE ${896 * 16 + 896}`);
    expect(header).toContain('#define FLEXQ_MODEL_OUTPUT1_OFFSET 14336');
    const q = readFq(join(folder, 'model.fq'));
    const floats = await proofPhotos(q, 'mediapipe-face', 2);
    const shape = [2, 3, 128, 128];
    const executor = await qemuExecutor('cortex-m7')(q, { mode: C_REQUANT_MODE });
    const got = await executor.run({ shape, data: floats });
    const runtime = createIntegerRuntime(q, C_REQUANT_MODE);
    const want = runtime.run({ shape, data: runtime.quantizeInput(floats) });
    expect([...got.keys()]).toEqual(['regressors', 'classificators']);
    for (const name of q.graph.outputs) {
      const w = want.get(name)!;
      expect(got.get(name)!.shape).toEqual([2, ...w.shape.slice(1)]);
      expect(got.get(name)!.data).toEqual(dequantize({ shape: w.shape, data: w.data, quant: q.activations.get(name)! }));
    }
  });
});
