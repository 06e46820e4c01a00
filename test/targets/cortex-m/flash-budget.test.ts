// The optimized lowering's flash budget: where the DSP kernels' int16 weights would overflow the board's flash, the
// layers whose int16 packing costs the most over int8 keep their GEMM weights int8 (SXTB16 at run time), largest saving
// first, until the constants fit. MobileNetV2 (the converter's int8-qat model) on the M7: 6,981 KiB of constants with
// int16 weights; the fitted build, in --rounding xnnpack, gives the runtime's tflite-xnnpack bytes on a photo in QEMU
// (the runtime's mode gives LiteRT.js's bytes on every operator output: test/import/tflite-int8.test.ts; the
// photo-level top-1 over 100 photos is `npm run bench -- mcu-mobilenetv2`).
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createIntegerRuntime } from '../../../runtime/executor.js';
import { openData } from '../../../src/api/data.js';
import { importTfliteInt8 } from '../../../src/import/tflite/import-tflite-int8.js';
import type { QuantizedGraph } from '../../../src/ir/quantized-graph.js';
import { arrayBytes } from '../../../targets/cortex-m/c-step.js';
import { constantBudget, CORTEX_M_CORES } from '../../../targets/cortex-m/boards.js';
import { buildElf, checkFits } from '../../../targets/cortex-m/build.js';
import { emitC } from '../../../targets/cortex-m/emit-c.js';
import { lowerForC, type LoweredModel } from '../../../targets/cortex-m/lower.js';
import { runInQemu } from '../../../targets/cortex-m/qemu.js';
import { data, hasShared, model } from '../../helpers/shared.js';
import { lacksTools } from '../../helpers/tools.js';
import { mismatchedBytes } from './cases.js';

const constants = (m: ReturnType<typeof lowerForC>): number => arrayBytes(m.steps.flatMap((s) => s.arrays));

const M7 = CORTEX_M_CORES['cortex-m7'];
const FILE = model('mobilenetv2-imagenet/int8-qat.tflite');

describe.skipIf(!hasShared)('lowerForC constantBudget', () => {
  let q: QuantizedGraph;
  let fitted: LoweredModel;
  const budget = constantBudget(M7);
  beforeAll(() => {
    q = importTfliteInt8(readFileSync(FILE), FILE);
    fitted = lowerForC(q, 'optimized', 'xnnpack', { constantBudget: budget });
  }, 60_000);

  it('MobileNetV2 on the M7: the 12 layers that save the most keep int8 weights (the classifier first) and the constants fit', () => {
    const unbounded = lowerForC(q, 'optimized', 'xnnpack');
    expect(unbounded.int8WeightLayers).toEqual([]);
    expect(Math.round(constants(unbounded) / 1024)).toBe(6981); // KiB, more than the M7 board's 4 MiB
    expect(constants(fitted)).toBeLessThanOrEqual(budget);
    expect(fitted.int8WeightLayers.length).toBe(12);
    expect(fitted.int8WeightLayers[0]).toBe('Xq.1'); // the 1280 × 1000 classifier
    const moved = new Set(fitted.int8WeightLayers);
    const int8Steps = fitted.steps.filter((s) => /^flexq_(conv|fully_connected)_dsp_params$/.test(s.params?.type ?? '') && s.params!.init.endsWith(', 1}'));
    expect(int8Steps.map((s) => s.node.name).sort()).toEqual([...moved].sort());
    // one layer fewer would not fit: the choice stops as soon as the constants fit
    const last = fitted.steps.find((s) => s.node.name === fitted.int8WeightLayers.at(-1))!;
    const dsp = unbounded.steps.find((s) => s.node.name === last.node.name)!;
    expect(constants(fitted) - arrayBytes(last.arrays) + arrayBytes(dsp.arrays)).toBeGreaterThan(budget);
  }, 60_000);

  it.skipIf(lacksTools('arm-gcc', 'qemu-arm'))('MobileNetV2 on the M7 in QEMU, --rounding xnnpack: one photo, the runtime\'s tflite-xnnpack bytes', async () => {
    const sample = [3, 224, 224];
    const set = await openData(data('imagenet-sample'), { preprocess: 'imagenet', limit: 1 }, sample);
    let floats: Float32Array = new Float32Array(0);
    for await (const b of set.batches(1)) floats = b.data;
    const runtime = createIntegerRuntime(q, 'tflite-xnnpack');
    const input = runtime.quantizeInput(floats);
    const want = runtime.run({ shape: [1, ...sample], data: input }).get(q.graph.outputs[0])!.data;
    const c = emitC(fitted, 'optimized');
    checkFits(c, M7, FILE);
    const { elf, flashBytes } = await buildElf(c, M7, FILE);
    expect(flashBytes).toBeLessThanOrEqual(M7.code.bytes);
    const run = await runInQemu(elf, M7, input, 1, c.outputBytes, { icount: false });
    expect(want.length).toBe(1000);
    expect(mismatchedBytes(run.outputs, want)).toBe(0);
  }, 180_000);
});
