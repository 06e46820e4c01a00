// kernels/softmax.c against the runtime's tflite-double softmax on random slices, scales, layouts and unit grids
// (8, 4 and 2 bits), and kernels/softmax_float.c (--rounding xnnpack) against its tflite-xnnpack softmax on random
// slices and grids, and its exp against V8's Math.exp; built for the host with gcc, C_WARNINGS and the sanitizers,
// without libm.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ActivationQuant } from '../../../src/ir/quantized-graph.js';
import { mulberry32 } from '../../../src/random.js';
import { fixedPointSoftmax, prepareFixedPointSoftmax, softmax } from '../../../runtime/kernels/softmax.js';
import { gridQuantizer } from '../../../runtime/quantize-input.js';
import { C_WARNINGS } from '../../../targets/cortex-m/build.js';
import { KERNELS_DIR } from '../../../targets/cortex-m/emit-c.js';
import { runTool } from '../../../src/run-tool.js';

const work = mkdtempSync(join(tmpdir(), 'flexq-softmax-c-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const DRIVER = `#include <stdio.h>
#include "flexq_kernels.h"
/* Records: 10 int32 parameters (flexq_softmax_params in order), then outer·length·inner int8; each answered with its output. */
int main(int argc, char **argv) {
  FILE *in = fopen(argv[1], "rb"), *out = fopen(argv[2], "wb");
  static int8_t x[1 << 16], y[1 << 16];
  int32_t v[10];
  if (argc != 3 || !in || !out) return 2;
  while (fread(v, sizeof v[0], 10, in) == 10) {
    const flexq_softmax_params p = {v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9]};
    const size_t n = (size_t)(p.outer * p.length * p.inner);
    if (fread(x, 1, n, in) != n) return 3;
    flexq_softmax_s8(&p, x, y);
    fwrite(y, 1, n, out);
  }
  return fclose(out);
}
`;

describe('kernels/softmax.c', () => {
  it('gives the runtime\'s tflite-double softmax bytes on 3,000 random slices', async () => {
    const r = mulberry32(21);
    const records: Uint8Array[] = [];
    const want: Int8Array[] = [];
    for (let n = 0; n < 3000; n++) {
      const bits = [8, 8, 4, 2][n % 4];
      const output: ActivationQuant = { scale: 2 ** -bits, zeroPoint: -(2 ** (bits - 1)), bits, qmin: -(2 ** (bits - 1)), qmax: 2 ** (bits - 1) - 1 };
      const input: ActivationQuant = { scale: Math.fround(Math.exp(-12 + 14 * r())), zeroPoint: 0, bits: 8, qmin: -128, qmax: 127 };
      const layout = { outer: 1 + Math.floor(r() * 3), length: 1 + Math.floor(r() ** 2 * 300), inner: 1 + Math.floor(r() * 3) };
      const top = Math.floor(r() * 256) - 128;
      const spread = 1 + Math.floor(r() * 256);
      const x = Int8Array.from({ length: layout.outer * layout.length * layout.inner }, () => Math.max(-128, top - Math.floor(r() * spread)));
      const p = prepareFixedPointSoftmax(input, output, (what) => {
        throw new Error(what);
      });
      const y = new Int8Array(x.length);
      fixedPointSoftmax(layout, p, x, 1, y);
      want.push(y);
      const params = Int32Array.of(layout.outer, layout.length, layout.inner, p.inputMultiplier, p.inputLeftShift, p.diffMin, p.outputBits, p.zeroPoint, p.qmin, p.qmax);
      records.push(new Uint8Array(params.buffer), new Uint8Array(x.buffer));
    }
    writeFileSync(join(work, 'in.bin'), Buffer.concat(records));
    writeFileSync(join(work, 'driver.c'), DRIVER);
    writeFileSync(join(work, 'flexq_names.h'), '/* no renames */\n');
    const exe = join(work, 'softmax');
    const sanitizers = ['-fsanitize=address,undefined', '-fno-sanitize-recover=all'];
    const gcc = await runTool('gcc', [...C_WARNINGS.filter((w) => w !== '-Wmissing-prototypes'), '-O1', '-g', ...sanitizers, `-I${work}`, `-I${KERNELS_DIR}`, join(work, 'driver.c'), join(KERNELS_DIR, 'softmax.c'), '-o', exe]);
    expect(gcc.stderr).toBe('');
    const run = await runTool(exe, [join(work, 'in.bin'), join(work, 'out.bin')]);
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBe(0);
    const got = new Int8Array(readFileSync(join(work, 'out.bin')));
    let at = 0;
    want.forEach((y, i) => {
      expect(got.subarray(at, at + y.length), `slice ${i}`).toEqual(y);
      at += y.length;
    });
    expect(at).toBe(got.length);
  });
});

/** softmax_float.c with a driver in one translation unit (its exp is static), under the sanitizers. */
async function buildFloatDriver(name: string, driver: string): Promise<string> {
  writeFileSync(join(work, `${name}.c`), `#include <stdio.h>\n#include "softmax_float.c"\n${driver}`);
  writeFileSync(join(work, 'flexq_names.h'), '/* no renames */\n');
  const exe = join(work, name);
  const sanitizers = ['-fsanitize=address,undefined', '-fno-sanitize-recover=all'];
  const gcc = await runTool('gcc', [...C_WARNINGS.filter((w) => w !== '-Wmissing-prototypes'), '-O1', '-g', ...sanitizers, `-I${work}`, `-I${KERNELS_DIR}`, join(work, `${name}.c`), '-o', exe]);
  expect(gcc.stderr).toBe('');
  return exe;
}

/** Runs a driver on the bytes of `input`: its output file's bytes. */
async function runDriver(exe: string, input: Uint8Array): Promise<Uint8Array> {
  writeFileSync(join(work, 'in.bin'), input);
  const run = await runTool(exe, [join(work, 'in.bin'), join(work, 'out.bin')]);
  expect(run.stderr).toBe('');
  expect(run.exitCode).toBe(0);
  return new Uint8Array(readFileSync(join(work, 'out.bin')));
}

describe('kernels/softmax_float.c', () => {
  it('its exp is V8\'s Math.exp, bit for bit, on 10^6 non-positive arguments (glibc\'s exp differs on 9 % of them)', async () => {
    const r = mulberry32(5);
    // Any argument down past the underflow at −745.13, and the ones a softmax meets: fp32(s·d) − fp32(s·d′).
    const xs = Float64Array.from({ length: 1_000_000 }, (_, i) => {
      if (i % 2 === 0) return -r() * 760;
      const s = Math.fround(Math.exp(-8 + 10 * r()));
      return Math.fround(s * Math.floor(-r() * 256)) - Math.fround(s * Math.floor(r() * 128));
    });
    xs.set([0, -0, -745.1332191019411, -745.1332191019412, -708.4, -Math.LN2 / 2, -1.5 * Math.LN2, -1, -(2 ** -29)]);
    const exe = await buildFloatDriver('exp_driver', `int main(int argc, char **argv) {
  FILE *in = fopen(argv[1], "rb"), *out = fopen(argv[2], "wb");
  double x;
  if (argc != 3 || !in || !out) return 2;
  while (fread(&x, sizeof x, 1, in) == 1) {
    const double y = exp_nonpositive(x);
    fwrite(&y, sizeof y, 1, out);
  }
  return fclose(out);
}
`);
    const got = new Float64Array((await runDriver(exe, new Uint8Array(xs.buffer))).slice().buffer);
    expect(got.length).toBe(xs.length);
    expect(xs.filter((x, i) => !Object.is(got[i], Math.exp(x))).length).toBe(0);
  });

  it('gives the runtime\'s tflite-xnnpack softmax bytes on 3,000 random slices and grids', async () => {
    const r = mulberry32(22);
    const records: Uint8Array[] = [];
    const want: Int8Array[] = [];
    for (let n = 0; n < 3000; n++) {
      const zeroPoint = (q: number) => Math.floor(q * 256) - 128;
      const input: ActivationQuant = { scale: Math.fround(Math.exp(-8 + 10 * r())), zeroPoint: zeroPoint(r()), bits: 8, qmin: -128, qmax: 127 };
      // the unit grid, or any other (ties where the share over the step lands on a half)
      const output: ActivationQuant = n % 2 ? { scale: Math.fround(1 / 256), zeroPoint: -128, bits: 8, qmin: -128, qmax: 127 } : { scale: Math.fround(Math.exp(-7 + 6 * r())), zeroPoint: zeroPoint(r()), bits: 8, qmin: -128, qmax: 127 };
      const layout = { outer: 1 + Math.floor(r() * 3), length: 1 + Math.floor(r() ** 2 * 300), inner: 1 + Math.floor(r() * 3) };
      const top = Math.floor(r() * 256) - 128;
      const spread = 1 + Math.floor(r() * 256);
      const x = Int8Array.from({ length: layout.outer * layout.length * layout.inner }, () => Math.max(-128, top - Math.floor(r() * spread)));
      const y = new Int8Array(x.length);
      softmax(layout, input, gridQuantizer('tflite-xnnpack', output), x, 1, y, new Float64Array(layout.length));
      want.push(y);
      // flexq_softmax_float_params in order: nine 4-byte fields, two of them float
      const params = new DataView(new ArrayBuffer(36));
      [layout.outer, layout.length, layout.inner, input.scale, input.zeroPoint, output.scale, output.zeroPoint, output.qmin, output.qmax].forEach((v, k) =>
        k === 3 || k === 5 ? params.setFloat32(4 * k, v, true) : params.setInt32(4 * k, v, true));
      records.push(new Uint8Array(params.buffer), new Uint8Array(x.buffer));
    }
    const exe = await buildFloatDriver('softmax_driver', `/* Records: flexq_softmax_float_params, then outer·length·inner int8; each answered with its output. */
int main(int argc, char **argv) {
  FILE *in = fopen(argv[1], "rb"), *out = fopen(argv[2], "wb");
  static int8_t x[1 << 16], y[1 << 16];
  flexq_softmax_float_params p;
  if (argc != 3 || !in || !out) return 2;
  while (fread(&p, sizeof p, 1, in) == 1) {
    const size_t n = (size_t)(p.outer * p.length * p.inner);
    if (fread(x, 1, n, in) != n) return 3;
    flexq_softmax_s8_float(&p, x, y);
    fwrite(y, 1, n, out);
  }
  return fclose(out);
}
`);
    const got = new Int8Array((await runDriver(exe, Buffer.concat(records))).buffer);
    let at = 0;
    want.forEach((y, i) => {
      expect(got.subarray(at, at + y.length), `slice ${i}`).toEqual(y);
      at += y.length;
    });
    expect(at).toBe(got.length);
  });
});
