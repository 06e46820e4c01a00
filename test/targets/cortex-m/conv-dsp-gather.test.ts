// kernels/conv_dsp.c's window gathers, each taken by one conv of a graph made by code: channels in groups of four
// (C = 8, dense and dilated windows, kernel widths 3 and 5), window rows rounded up to groups of four taps (C = 3, 6, 7;
// widths 3, 4, 6), a 1×1 window with a channel tail and one that reaches the padding; strides, asymmetric padding and
// an odd output channel count. The optimized C gives the integer runtime's bytes on the host under ASan + UBSan (the
// portable dual MAC) and on the Cortex-M4 in QEMU (SMLAD), with a scratch of two interleaved rows per conv.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIntegerRuntime } from '../../../runtime/executor.js';
import type { QuantizedGraph } from '../../../src/ir/quantized-graph.js';
import { runTool } from '../../../src/run-tool.js';
import { CORTEX_M_CORES } from '../../../targets/cortex-m/boards.js';
import { C_WARNINGS, HARNESS_DIR, writeGenerated } from '../../../targets/cortex-m/build.js';
import { emitC, type GeneratedC } from '../../../targets/cortex-m/emit-c.js';
import { generateC } from '../../../targets/cortex-m/library.js';
import { C_REQUANT_MODE, lowerForC } from '../../../targets/cortex-m/lower.js';
import { proveOnCortexM, runtimeOutputBytes } from '../../../targets/cortex-m/prove.js';
import { floats, graphOf, node, randomFloats } from '../../helpers/graphs.js';
import { quantizeFixture } from '../../helpers/quantize-fixture.js';
import { lacksTools } from '../../helpers/tools.js';
import { mismatchedBytes } from './cases.js';

const SAMPLE = [3, 13, 11];
const COUNT = 4;

/** in → out channels, kernel, strides, pads [top, left, bottom, right], dilations. */
const CONVS = [
  { c: 3, m: 8, kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], dilations: [1, 1] }, // rows, width 3
  { c: 8, m: 5, kernel: [2, 5], strides: [1, 1], pads: [1, 2, 0, 1], dilations: [2, 1] }, // groups, width 5
  { c: 5, m: 6, kernel: [1, 1], strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1] }, // 1×1, one-channel tail
  { c: 6, m: 8, kernel: [3, 6], strides: [1, 1], pads: [2, 3, 1, 2], dilations: [1, 1] }, // rows, width 6: two groups
  { c: 8, m: 8, kernel: [1, 1], strides: [2, 2], pads: [1, 0, 0, 1], dilations: [1, 1] }, // 1×1 over the padding
  { c: 8, m: 7, kernel: [3, 3], strides: [1, 1], pads: [2, 2, 2, 2], dilations: [2, 2] }, // groups, dilated; 7 outputs
  { c: 7, m: 4, kernel: [4, 4], strides: [1, 1], pads: [2, 1, 1, 2], dilations: [1, 1] }, // rows, width 4
];

const graph = graphOf(
  { name: 'x', shape: ['N', ...SAMPLE] },
  CONVS.flatMap((v, i) => [floats(`w${i}`, [v.m, v.c, ...v.kernel], 20 + i), floats(`b${i}`, [v.m], 40 + i)]),
  CONVS.map((v, i) => node('Conv', [i === 0 ? 'x' : `y${i - 1}`, `w${i}`, `b${i}`], `y${i}`, {
    kernel: v.kernel, strides: v.strides, pads: v.pads, dilations: v.dilations, group: 1, activation: i % 2 ? 'relu' : 'none',
  })),
  [`y${CONVS.length - 1}`],
);

const work = mkdtempSync(join(tmpdir(), 'flexq-conv-gather-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('DSP conv gathers on a graph made by code', () => {
  let q: QuantizedGraph;
  let generated: GeneratedC;
  let inputs: Int8Array;
  let expected: Int8Array;
  beforeAll(async () => {
    q = await quantizeFixture(graph, SAMPLE);
    generated = generateC(q, 'optimized');
    inputs = createIntegerRuntime(q, C_REQUANT_MODE).quantizeInput(randomFloats(COUNT * SAMPLE.reduce((a, b) => a * b), 5).map((v) => 2 * v));
    expected = runtimeOutputBytes(q, inputs, COUNT, C_REQUANT_MODE);
  });

  it('every conv takes the DSP kernel with two interleaved rows of round8(taps) as scratch (window rows of C = 3, 6, 7 rounded up to 4, 8, 4 taps)', () => {
    const steps = lowerForC(q, 'optimized').steps;
    expect(steps.map((s) => s.sources[0])).toEqual(CONVS.map(() => 'conv_dsp.c'));
    expect(steps.map((s) => s.scratchBytes)).toEqual([3 * 3 * 4, 8 * 2 * 5, 5, 6 * 3 * 8, 8, 8 * 3 * 3, 7 * 4 * 4].map((taps) => 2 * Math.ceil(taps / 8) * 8 * 2));
  });

  it.each([false, true])('host build under ASan + UBSan (int8 GEMM weights: %s): the integer runtime\'s bytes, and outputs that are not all clamped', async (int8Weights) => {
    // a flash budget of 0 keeps every conv's weights int8 (flexq_dsp.h's portable SXTB16 on the host)
    const c = int8Weights ? emitC(lowerForC(q, 'optimized', 'double', { constantBudget: 0 }), 'optimized') : generated;
    expect(c.int8WeightLayers.length).toBe(int8Weights ? CONVS.length : 0);
    const dir = join(work, int8Weights ? 'int8-weights' : 'int16-weights');
    writeGenerated(c, dir);
    const exe = join(dir, 'host');
    const gcc = await runTool('gcc', [...C_WARNINGS, '-O1', '-g', '-fsanitize=address,undefined', '-fno-sanitize-recover=all', `-I${dir}`, ...c.sources.map((s) => join(dir, s)), join(HARNESS_DIR, 'host_main.c'), '-o', exe]);
    expect(gcc.stderr).toBe('');
    writeFileSync(join(dir, 'in.bin'), inputs);
    const run = await runTool(exe, [join(dir, 'in.bin'), join(dir, 'out.bin')]);
    expect(run.stderr).toBe('');
    const outputs = new Int8Array(readFileSync(join(dir, 'out.bin')));
    expect(outputs.length).toBe(expected.length);
    expect(mismatchedBytes(outputs, expected)).toBe(0);
    expect(new Set(expected).size).toBeGreaterThan(20);
  });

  it.skipIf(lacksTools('arm-gcc', 'qemu-arm'))('Cortex-M4 in QEMU: the integer runtime\'s bytes', async () => {
    const r = await proveOnCortexM(q, generated, CORTEX_M_CORES['cortex-m4'], inputs, COUNT);
    expect(r.mismatchedBytes).toBe(0);
    expect(r.checked).toBe(COUNT);
  });
});
