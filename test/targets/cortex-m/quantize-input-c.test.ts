// The library's NAME_quantize_input, built for the host under ASan + UBSan for each --rounding, against the runtime's
// quantizeInput in that rounding's mode: the same bytes on the floats that tell the rules apart (ties of the input
// grid, their float neighbours, (pixel/127.5 − 1) on the grid 2/255, saturation, infinities, NaN).

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createIntegerRuntime } from '../../../runtime/executor.js';
import { C_WARNINGS, writeGenerated } from '../../../targets/cortex-m/build.js';
import { generateC } from '../../../targets/cortex-m/library.js';
import { C_ROUNDINGS, cRequantMode } from '../../../targets/cortex-m/lower.js';
import { quantizeRtn } from '../../../src/quant/rtn.js';
import { runTool } from '../../../src/run-tool.js';
import { graphOf, node } from '../../helpers/graphs.js';
import { grid } from '../tflite/op-cases.js';

const work = mkdtempSync(join(tmpdir(), 'flexq-quantize-input-c-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const INPUT = grid(2 / 255, -1);
const SANITIZERS = ['-fsanitize=address,undefined,float-cast-overflow', '-fno-sanitize-recover=all'];

/** y = Relu(x) over 600 inputs on the grid 2/255: a library whose only job here is its quantize_input. */
const q = quantizeRtn(
  { ...graphOf({ name: 'x', shape: ['N', 600] }, [], [node('Relu', ['x'], 'y')], ['y']), source: 'relu.onnx' },
  new Map([['x', INPUT], ['y', grid(1 / 255, -128)]]),
  { wbits: 8, edgeBits: 8 },
  { flexqVersion: 'test', method: 'rtn', wbits: 8, abits: 8, seed: 0, model: 'relu.onnx', calibrationSamples: 0 },
);

function telling(): Float32Array {
  const s = Math.fround(INPUT.scale);
  const xs = [0, -0, NaN, Infinity, -Infinity, 1e30, -1e30, 127.5 * s, -128.5 * s, 300 * s, -300 * s];
  for (let k = -20; k <= 20; k++) {
    const tie = Math.fround((k + 0.5) * s);
    xs.push(tie, tie * (1 + 2 ** -23), tie * (1 - 2 ** -23), k * s);
  }
  for (let pixel = 0; pixel < 256; pixel++) xs.push(pixel / 127.5 - 1);
  return Float32Array.from({ length: 600 }, (_, i) => xs[i % xs.length]);
}

describe('quantize_input in C = the runtime\'s quantizeInput, every --rounding', () => {
  for (const rounding of C_ROUNDINGS)
    it(`${rounding} (mode ${cRequantMode(rounding)})`, async () => {
      const c = generateC(q, 'reference', { prefix: 'm', rounding });
      const dir = join(work, rounding);
      writeGenerated(c, dir);
      writeFileSync(join(dir, 'main.c'), `#include <stdio.h>
#include "model.h"
static float real[M_INPUT_SIZE];
static int8_t input[M_INPUT_SIZE];
int main(int argc, char **argv) {
  FILE *in = fopen(argv[1], "rb"), *out = fopen(argv[2], "wb");
  if (argc != 3 || !in || !out || fread(real, sizeof real[0], M_INPUT_SIZE, in) != M_INPUT_SIZE) return 2;
  m_quantize_input(real, input);
  fwrite(input, 1, sizeof input, out);
  return fclose(out);
}
`);
      const exe = join(dir, 'quantize');
      const gcc = await runTool('gcc', [...C_WARNINGS, '-O1', '-g', ...SANITIZERS, `-I${dir}`, join(dir, 'main.c'), ...c.sources.map((s) => join(dir, s)), '-o', exe]);
      expect(gcc.stderr).toBe('');
      const floats = telling();
      writeFileSync(join(dir, 'in.bin'), floats);
      const run = await runTool(exe, [join(dir, 'in.bin'), join(dir, 'out.bin')]);
      expect(run.stderr).toBe('');
      expect(run.exitCode).toBe(0);
      const got = new Int8Array(readFileSync(join(dir, 'out.bin')));
      const want = createIntegerRuntime(q, cRequantMode(rounding)).quantizeInput(floats);
      const differing = got.reduce((n, v, i) => n + (v === want[i] ? 0 : 1), 0);
      expect(differing, `${differing} of ${floats.length} inputs quantized differently`).toBe(0);
    });
});
