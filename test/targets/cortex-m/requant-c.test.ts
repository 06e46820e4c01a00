// flexq_requant.h's requantizations, the reference flexq_requantize and the optimized kernels'
// flexq_requantize_channel (per-channel constants) and its right-shift-only path (flexq_right_shift_constants_of, for
// shifts ≤ −1; SSAT where the clamp is the int8 range), in both builds (FLEXQ_SINGLE_ROUNDING 0 and 1), against the
// runtime's tflite-double and tflite-single MultiplyByQuantizedMultiplier on accumulators at the int32 edges and at
// random, every shift, multipliers at the ends of [2^30, 2^31) and 0; built for the host with gcc, C_WARNINGS and the
// sanitizers. The fp32 build (FLEXQ_FP32_REQUANT, --rounding xnnpack): flexq_requantize_at and flexq_requantize_channel
// against the runtime's tflite-xnnpack epilogue on accumulators at the int32 edges and at random, scales over 2^-30..2^3,
// the halfway points of the rounding included.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../../src/random.js';
import { multiplyByQuantizedMultiplierDouble, multiplyByQuantizedMultiplierSingle, requantizeFp32 } from '../../../runtime/requant/index.js';
import { C_WARNINGS } from '../../../targets/cortex-m/build.js';
import { KERNELS_DIR } from '../../../targets/cortex-m/emit-c.js';
import { runTool } from '../../../src/run-tool.js';

const work = mkdtempSync(join(tmpdir(), 'flexq-requant-c-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const DRIVER = `#include <stdio.h>
#include "flexq_kernels.h"
#include "flexq_requant.h"
/* Records of 6 int32 (acc, multiplier, shift, zero point, min, max); each answered with the reference's, the
 * per-channel function's and (for a shift ≤ −1; else the reference's again) the right-shift-only path's int8. */
int main(int argc, char **argv) {
  FILE *in = fopen(argv[1], "rb"), *out = fopen(argv[2], "wb");
  int32_t v[6];
  if (argc != 3 || !in || !out) return 2;
  while (fread(v, sizeof v[0], 6, in) == 6) {
    const flexq_requant reference = {v[1], v[2], v[3], v[4], v[5]};
    const flexq_channel_requant channel = {&v[1], &v[2], v[3], v[4], v[5]};
    const flexq_channel_constants c = flexq_channel_constants_of(&channel, 0);
    int8_t y[3] = {flexq_requantize(&reference, v[0]), flexq_requantize_channel(&c, v[3], v[4], v[5], v[0]), flexq_requantize(&reference, v[0])};
    if (v[2] <= -1) {
      const flexq_channel_constants right = flexq_right_shift_constants_of(&channel, 0);
      const int path = v[4] == -128 && v[5] == 127 ? FLEXQ_REQUANT_RIGHT_SHIFT_INT8 : FLEXQ_REQUANT_RIGHT_SHIFT;
      y[2] = flexq_requantize_as(&right, path, v[3], v[4], v[5], v[0]);
    }
    fwrite(y, 1, 3, out);
  }
  return fclose(out);
}
`;

/* Records of 5 int32 (acc, the scale's float32 bits, zero point, min, max); each answered with flexq_requantize_at's
 * int8 and flexq_requantize_channel's. */
const FP32_DRIVER = `#include <stdio.h>
#include <string.h>
#include "flexq_kernels.h"
#include "flexq_requant.h"
int main(int argc, char **argv) {
  FILE *in = fopen(argv[1], "rb"), *out = fopen(argv[2], "wb");
  int32_t v[5];
  if (argc != 3 || !in || !out) return 2;
  while (fread(v, sizeof v[0], 5, in) == 5) {
    float scale;
    memcpy(&scale, &v[1], sizeof scale);
    const flexq_channel_requant channel = {&scale, v[2], v[3], v[4]};
    const flexq_channel_constants c = flexq_channel_constants_of(&channel, 0);
    int8_t y[2] = {flexq_requantize_at(&channel, 0, v[0]), flexq_requantize_channel(&c, v[2], v[3], v[4], v[0])};
    fwrite(y, 1, 2, out);
  }
  return fclose(out);
}
`;

const SANITIZERS = ['-fsanitize=address,undefined', '-fno-sanitize-recover=all'];

const BUILDS = [
  { rounding: 'double', define: '0', multiply: multiplyByQuantizedMultiplierDouble },
  { rounding: 'single', define: '1', multiply: multiplyByQuantizedMultiplierSingle },
] as const;

describe('kernels/flexq_requant.h', () => {
  it.each(BUILDS)('$rounding rounding: flexq_requantize, flexq_requantize_channel and its right-shift path give the runtime\'s bytes on 300,000 cases', async ({ rounding, define, multiply }) => {
    const r = mulberry32(20);
    const int32 = (): number => (Math.floor(r() * 2 ** 32) | 0);
    const EDGES = [-(2 ** 31), 2 ** 31 - 1, 0, 1, -1, 2 ** 30, -(2 ** 30), 2 ** 30 - 1, -(2 ** 30) - 1];
    const MULTIPLIERS = [0, 2 ** 30, 2 ** 31 - 1, 2 ** 30 + 1];
    const count = 300_000;
    const records = new Int32Array(count * 6);
    const want = new Int8Array(count);
    for (let n = 0; n < count; n++) {
      const shift = -31 + (n % 62); // -31..30
      const acc = n % 7 === 0 ? EDGES[n % EDGES.length] : n % 3 === 0 ? int32() >> Math.floor(r() * 31) : int32();
      const multiplier = n % 11 === 0 ? MULTIPLIERS[n % MULTIPLIERS.length] : 2 ** 30 + Math.floor(r() * 2 ** 30);
      const zeroPoint = Math.floor(r() * 256) - 128;
      const [min, max] = n % 2 ? [-128, 127] : [zeroPoint, 127];
      records.set([acc, multiplier, shift, zeroPoint, min, max], n * 6);
      want[n] = Math.min(max, Math.max(min, (multiply(acc, multiplier, shift) + zeroPoint) | 0));
    }
    writeFileSync(join(work, `in-${rounding}.bin`), new Uint8Array(records.buffer));
    writeFileSync(join(work, 'driver.c'), DRIVER);
    writeFileSync(join(work, 'flexq_names.h'), '/* no renames */\n');
    const exe = join(work, `requant-${rounding}`);
    const gcc = await runTool('gcc', [...C_WARNINGS.filter((w) => w !== '-Wmissing-prototypes'), '-O1', '-g', ...SANITIZERS, `-DFLEXQ_SINGLE_ROUNDING=${define}`, `-I${work}`, `-I${KERNELS_DIR}`, join(work, 'driver.c'), '-o', exe]);
    expect(gcc.stderr).toBe('');
    const run = await runTool(exe, [join(work, `in-${rounding}.bin`), join(work, `out-${rounding}.bin`)]);
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBe(0);
    const got = new Int8Array(readFileSync(join(work, `out-${rounding}.bin`)));
    expect(got.length).toBe(3 * count);
    const mismatches = { reference: 0, channel: 0, rightShift: 0 };
    for (let n = 0; n < count; n++) {
      if (got[3 * n] !== want[n]) mismatches.reference++;
      if (got[3 * n + 1] !== want[n]) mismatches.channel++;
      if (got[3 * n + 2] !== want[n]) mismatches.rightShift++;
    }
    expect(mismatches).toEqual({ reference: 0, channel: 0, rightShift: 0 });
  });

  it('fp32 rounding (xnnpack): flexq_requantize_at and flexq_requantize_channel give the runtime\'s tflite-xnnpack bytes on 300,000 cases', async () => {
    const r = mulberry32(21);
    const count = 300_000;
    const records = new Int32Array(count * 5);
    const scales = new Float32Array(records.buffer); // record field 1 holds the scale's float32 bits
    const want = new Int8Array(count);
    const EDGES = [-(2 ** 31), 2 ** 31 - 1, 0, 1, -1];
    for (let n = 0; n < count; n++) {
      const scale = Math.fround(2 ** (-30 + 33 * r()));
      const zeroPoint = Math.floor(r() * 256) - 128;
      // every third accumulator sits where acc·scale is near a half step (the ties the magic-bias rounding settles)
      const nearHalf = Math.round((Math.floor(r() * 300) - 150 + 0.5) / scale);
      const acc = n % 7 === 0 ? EDGES[n % EDGES.length] : n % 3 === 0 && Math.abs(nearHalf) < 2 ** 31 ? nearHalf : Math.floor(r() * 2 ** 32) | 0;
      const [min, max] = n % 2 ? [-128, 127] : [zeroPoint, 127];
      records.set([acc, 0, zeroPoint, min, max], n * 5);
      scales[n * 5 + 1] = scale;
      want[n] = requantizeFp32(acc, scale, zeroPoint, min, max);
    }
    writeFileSync(join(work, 'in-fp32.bin'), new Uint8Array(records.buffer));
    writeFileSync(join(work, 'driver-fp32.c'), FP32_DRIVER);
    writeFileSync(join(work, 'flexq_names.h'), '/* no renames */\n');
    const exe = join(work, 'requant-fp32');
    const gcc = await runTool('gcc', [...C_WARNINGS.filter((w) => w !== '-Wmissing-prototypes'), '-O1', '-g', ...SANITIZERS, '-DFLEXQ_SINGLE_ROUNDING=1', '-DFLEXQ_FP32_REQUANT=1', `-I${work}`, `-I${KERNELS_DIR}`, join(work, 'driver-fp32.c'), '-o', exe]);
    expect(gcc.stderr).toBe('');
    const run = await runTool(exe, [join(work, 'in-fp32.bin'), join(work, 'out-fp32.bin')]);
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBe(0);
    const got = new Int8Array(readFileSync(join(work, 'out-fp32.bin')));
    expect(got.length).toBe(2 * count);
    const mismatches = { at: 0, channel: 0 };
    for (let n = 0; n < count; n++) {
      if (got[2 * n] !== want[n]) mismatches.at++;
      if (got[2 * n + 1] !== want[n]) mismatches.channel++;
    }
    expect(mismatches).toEqual({ at: 0, channel: 0 });
    expect(new Set(want).size).toBe(256); // every output value reached
  });
});
