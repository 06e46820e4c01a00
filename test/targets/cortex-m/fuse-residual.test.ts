// fuseResidualAdds: a DSP conv whose output only a table Add reads runs as one step with it, at the Add's place,
// writing over the residual, where that shrinks the arena; never where another step reads the conv's output or the
// conv reads the residual itself in place. On the converter's ResNet-8 it takes the arena below 0.6× TFLite-Micro's.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { importTfliteInt8 } from '../../../src/import/tflite/import-tflite-int8.js';
import { arenaBuffers } from '../../../targets/cortex-m/arena-buffers.js';
import { emitC } from '../../../targets/cortex-m/emit-c.js';
import { fuseResidualAdds } from '../../../targets/cortex-m/fuse-residual.js';
import { lowerForC, type CArray, type CStep, type LoweredModel } from '../../../targets/cortex-m/lower.js';
import { planArena } from '../../../targets/cortex-m/plan-arena.js';
import { hasShared, model } from '../../helpers/shared.js';

const table = (name: string): CArray => ({ name, type: 'int32_t', values: new Int32Array(256) });

const conv = (input: string, output: string, bytes: number): CStep =>
  ({ node: { name: output, op: 'Conv', inputs: [input], outputs: [output], attrs: {} }, arrays: [], inputs: [input], output, outputBytes: bytes,
    scratchBytes: 64, inPlaceInputs: [], sources: ['conv_dsp.c', 'gemm_dsp.c'], convDsp: `{${output}}`, call: () => '' }) as unknown as CStep;

const add = (a: string, b: string, output: string, bytes: number): CStep =>
  ({ node: { name: output, op: 'Add', inputs: [a, b], outputs: [output], attrs: {} }, arrays: [table(`${output}_a`), table(`${output}_b`)], inputs: [a, b], output,
    outputBytes: bytes, scratchBytes: 0, inPlaceInputs: [0, 1], sources: ['add_table.c'], addTable: { tables: [table(`${output}_a`), table(`${output}_b`)], requant: '{r}' }, call: () => '' }) as unknown as CStep;

function lowered(steps: CStep[]): LoweredModel {
  const grid = { scale: 1, zeroPoint: 0, bits: 8, qmin: -128, qmax: 127 };
  return { steps, aliases: new Map(), input: { name: 'x', shape: [1000], quant: grid }, outputs: [{ name: steps.at(-1)!.output, shape: [1000], quant: grid }] } as unknown as LoweredModel;
}

const arena = (m: LoweredModel): number => planArena(arenaBuffers(m, { inPlace: true }).buffers).size;

describe('fuseResidualAdds', () => {
  // x → stem → s; s → c1 → a → c2 → b; add(s, b) → y; y → head → z
  const block = lowered([conv('x', 's', 1000), conv('s', 'a', 1000), conv('a', 'b', 1000), add('s', 'b', 'y', 1000), conv('y', 'z', 1000)]);

  it('runs the second conv with the residual Add over the block input: two block-sized buffers instead of three', () => {
    const fused = fuseResidualAdds(block);
    expect(fused.steps.map((s) => s.node.op)).toEqual(['Conv', 'Conv', 'ConvAdd', 'Conv']);
    const step = fused.steps[2];
    expect([step.inputs, step.output, step.inPlaceInputs]).toEqual([['a', 's'], 'y', [1]]);
    expect(step.params).toEqual({ type: 'flexq_conv_add_dsp_params', init: '{{b}, y_b, y_a, {r}}' }); // the conv's operand's table first
    expect(step.scratchBytes).toBe(64);
    expect(arenaBuffers(fused, { inPlace: true }).storage.get('y')).toBe('s');
    expect([arena(block), arena(fused)]).toEqual([3000 + 64, 2000 + 64]);
  });

  it('leaves a conv whose output another step reads, and does not write over a residual the conv reads', () => {
    const shared = lowered([conv('x', 's', 1000), conv('s', 'a', 1000), conv('a', 'b', 1000), add('s', 'b', 'y', 1000), add('y', 'b', 'z', 1000)]);
    expect(fuseResidualAdds(shared).steps.map((s) => s.node.op)).toEqual(['Conv', 'Conv', 'Conv', 'Add', 'Add']);
    const self = fuseResidualAdds(lowered([conv('x', 's', 1000), conv('s', 'b', 1000), add('s', 'b', 'y', 1000), conv('y', 'z', 1000)]));
    expect(self.steps.map((s) => s.node.op)).toEqual(['Conv', 'ConvAdd', 'Conv']); // a tie: fused
    expect(self.steps[1].inPlaceInputs).toEqual([]);
  });

  it.skipIf(!hasShared)('the converter\'s ResNet-8: arena 49,728 bytes, 49,728 in place, 33,344 fused (≤ 0.6 × TFLite-Micro\'s 54.3 KiB)', () => {
    const file = model('resnet8-cifar10/int8-reference.tflite');
    const m = lowerForC(importTfliteInt8(readFileSync(file), file), 'optimized');
    const sizes = [{ inPlace: false }, { inPlace: true, fuseResidual: false }, {}].map((o) => emitC(m, 'optimized', o).arenaBytes);
    expect(sizes).toEqual([49728, 49728, 33344]);
    expect(sizes[2]).toBeLessThanOrEqual(0.6 * 54.3 * 1024);
  });
});
