// One small graph per TFLite operator flexq writes, exported and run in LiteRT.js and tfjs-tflite on both CPU
// paths, against the integer runtime in the matching mode: zero differing bytes on random int8 inputs that cover
// the whole input range (activation tables see all 256 input values).
import { describe, expect, it } from 'vitest';
import type { RequantMode } from '../../../runtime/requant/index.js';
import { sizeOf } from '../../../src/ir/shape.js';
import { pathExportOptions, type TfliteInterpreterKind, type TflitePath } from '../../../targets/tflite/executor.js';
import { problems } from '../../../targets/tflite/interpreter.js';
import { openLiteRt } from '../../../targets/tflite/litert.js';
import { openTfjsTflite } from '../../../targets/tflite/tfjs-tflite.js';
import { compareWithInterpreter, randomInt8Inputs, type OpenInterpreter } from './compare.js';
import { OP_CASES } from './op-cases.js';

const INPUTS = 60;

/**
 * Each interpreter and path, the runtime mode that matches it, and the mode whose MEAN rule it follows: LiteRT.js runs
 * MEAN in XNNPACK on its XNNPACK path and in TFLite's optimized kernel on its built-in path (the export computes the
 * axes there); tfjs-tflite's older XNNPACK leaves int8 MEAN to its built-in kernel, whose fixed-point rule is
 * tflite-single's. Graphs whose only requantizing op is MEAN are checked against that mode.
 */
const PATHS: readonly { name: string; kind: TfliteInterpreterKind; open: OpenInterpreter; path: TflitePath; mode: RequantMode; meanMode: RequantMode }[] = [
  { name: 'LiteRT.js XNNPACK', kind: 'litert', open: openLiteRt, path: 'xnnpack', mode: 'tflite-xnnpack', meanMode: 'tflite-xnnpack' },
  { name: 'LiteRT.js built-in', kind: 'litert', open: openLiteRt, path: 'builtin', mode: 'tflite-builtin', meanMode: 'tflite-builtin' },
  { name: 'tfjs-tflite XNNPACK', kind: 'tfjs-tflite', open: openTfjsTflite, path: 'xnnpack', mode: 'tflite-xnnpack', meanMode: 'tflite-single' },
  { name: 'tfjs-tflite built-in', kind: 'tfjs-tflite', open: openTfjsTflite, path: 'builtin', mode: 'tflite-builtin', meanMode: 'tflite-single' },
];

const onlyMean = (ops: readonly string[]): boolean => ops.includes('GlobalAveragePool') && !ops.some((op) => ['Conv', 'Gemm', 'MatMul'].includes(op));

describe('TFLite operators: interpreter bytes = runtime bytes', () => {
  for (const c of OP_CASES) {
    const sample = c.q.graph.values.get(c.q.graph.inputs[0])!.shape.slice(1) as number[];
    const inputs = randomInt8Inputs(INPUTS, sizeOf(sample), 7);
    const ops = c.q.graph.nodes.map((n) => n.op);
    for (const p of PATHS) {
      const mode = onlyMean(ops) ? p.meanMode : p.mode;
      it(`${c.name} — ${p.name} vs ${mode}`, async () => {
        const r = await compareWithInterpreter(c.q, p.open, pathExportOptions(p.kind, p.path), mode, inputs);
        expect(problems(r.loadLog)).toEqual([]);
        expect(r.outputs).toBeGreaterThan(0);
        expect(r.mismatches, `${r.mismatches} of ${r.outputs} output bytes differ`).toBe(0);
      });
    }
  }

  it("MEAN in LiteRT.js's XNNPACK: a channel sum of ppocr-cls whose mean lies next to a tie (scale (sx/sy)·(1/n) in float)", async () => {
    const c = OP_CASES.find((c) => c.name.startsWith('global average pool over 2x96'))!;
    // 176 values −112 and 16 values −113 per channel: Σ x = −21520, (Σ x − n·zx)·sx/(sy·n) + zy within a float step of −17.5.
    const channel = Int8Array.from({ length: 192 }, (_, i) => (i < 176 ? -112 : -113));
    const x = new Int8Array(4 * 192);
    for (let k = 0; k < 4; k++) x.set(channel, k * 192);
    const r = await compareWithInterpreter(c.q, openLiteRt, pathExportOptions('litert', 'xnnpack'), 'tflite-xnnpack', [x]);
    expect(r.outputs).toBe(4);
    expect(r.mismatches).toBe(0);
  });

  it('tells the rules apart: each is wrong where the other one runs', async () => {
    // Depthwise: XNNPACK's fp32 requantization vs TFLite's kUpward double rounding differ on ~0.5 % of outputs.
    const dw = OP_CASES.find((c) => c.name.startsWith('depthwise'))!;
    const inputs = randomInt8Inputs(INPUTS, sizeOf(dw.q.graph.values.get('x')!.shape.slice(1) as number[]), 7);
    const crossed = await compareWithInterpreter(dw.q, openTfjsTflite, pathExportOptions('tfjs-tflite', 'builtin'), 'tflite-xnnpack', inputs);
    expect(crossed.mismatches).toBeGreaterThan(0);
    const single = await compareWithInterpreter(dw.q, openLiteRt, pathExportOptions('litert', 'builtin'), 'tflite-single', inputs);
    expect(single.mismatches).toBeGreaterThan(0);
    // MEAN: LiteRT.js's XNNPACK float rule vs the built-in fixed-point one differ near ties.
    const mean = OP_CASES.find((c) => c.name.startsWith('add (broadcast'))!;
    const meanInputs = randomInt8Inputs(200, sizeOf(mean.q.graph.values.get('x')!.shape.slice(1) as number[]), 3);
    expect((await compareWithInterpreter(mean.q, openLiteRt, pathExportOptions('litert', 'xnnpack'), 'tflite-builtin', meanInputs)).mismatches).toBeGreaterThan(0);
    expect((await compareWithInterpreter(mean.q, openLiteRt, pathExportOptions('litert', 'xnnpack'), 'tflite-xnnpack', meanInputs)).mismatches).toBe(0);
    // MEAN on LiteRT.js's built-in path: its optimized kernel vs the older fixed-point rule of tfjs-tflite (tflite-single's).
    const gap = OP_CASES.find((c) => c.name.startsWith('global average pool'))!;
    const gapInputs = randomInt8Inputs(200, sizeOf(gap.q.graph.values.get('x')!.shape.slice(1) as number[]), 3);
    expect((await compareWithInterpreter(gap.q, openLiteRt, pathExportOptions('litert', 'builtin'), 'tflite-single', gapInputs)).mismatches).toBeGreaterThan(0);
  });
});
