// The optimized lowering's flash budget: where the DSP kernels' int16 weights would overflow the board's flash, the
// layers whose int16 packing costs the most over int8 keep their GEMM weights int8 (SXTB16 at run time), largest saving
// first, until the constants fit. MobileNetV2 (the converter's int8-qat model) on the M7: 6,981 KiB of constants with int16 weights.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { importTfliteInt8 } from '../../../src/import/tflite/import-tflite-int8.js';
import { arrayBytes } from '../../../targets/cortex-m/c-step.js';
import { constantBudget, CORTEX_M_CORES } from '../../../targets/cortex-m/boards.js';
import { lowerForC } from '../../../targets/cortex-m/lower.js';
import { hasShared, model } from '../../helpers/shared.js';

const constants = (m: ReturnType<typeof lowerForC>): number => arrayBytes(m.steps.flatMap((s) => s.arrays));

describe.skipIf(!hasShared)('lowerForC constantBudget', () => {
  it('MobileNetV2 on the M7: the 12 layers that save the most keep int8 weights (the classifier first) and the constants fit', () => {
    const file = model('mobilenetv2-imagenet/int8-qat.tflite');
    const q = importTfliteInt8(readFileSync(file), file);
    const budget = constantBudget(CORTEX_M_CORES['cortex-m7']);
    const unbounded = lowerForC(q, 'optimized', 'xnnpack');
    const fitted = lowerForC(q, 'optimized', 'xnnpack', { constantBudget: budget });
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
});
