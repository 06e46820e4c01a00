// The generated C built for the host with gcc and C_WARNINGS, AddressSanitizer + UndefinedBehaviorSanitizer (the DSP
// kernels through flexq_dsp.h's portable operations) and no libm: it runs clean and gives the integer runtime's bytes.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { C_WARNINGS, HARNESS_DIR, writeGenerated } from '../../../targets/cortex-m/build.js';
import { KERNEL_SETS } from '../../../targets/cortex-m/lower.js';
import { generateC } from '../../../targets/cortex-m/library.js';
import { runTool } from '../../../src/run-tool.js';
import { mismatchedBytes, MODEL_CASES, prepareCase, type PreparedCase } from './cases.js';

/** Samples per model under the sanitizers (ResNet-8's reference kernels are the slow part). */
const HOST_INPUTS = 10;
const SANITIZERS = ['-fsanitize=address,undefined', '-fno-sanitize-recover=all', '-fno-omit-frame-pointer'];

const work = mkdtempSync(join(tmpdir(), 'flexq-host-c-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

for (const c of MODEL_CASES) {
  describe(`${c.name}: generated C on the host under ASan + UBSan`, () => {
    let p: PreparedCase;
    beforeAll(async () => {
      p = await prepareCase(c);
    });
    for (const kernels of KERNEL_SETS) {
      it(`${kernels} kernels compile with ${C_WARNINGS.join(' ')} and run clean, bit-exact`, async () => {
        const generated = generateC(p.q, kernels);
        const dir = join(work, `${c.name}-${kernels}`);
        writeGenerated(generated, dir);
        const exe = join(dir, 'host');
        const gcc = await runTool('gcc', [...C_WARNINGS, '-O1', '-g', ...SANITIZERS, `-I${dir}`, ...generated.sources.map((s) => join(dir, s)), join(HARNESS_DIR, 'host_main.c'), '-o', exe]);
        expect(gcc.stderr).toBe('');
        expect(gcc.exitCode).toBe(0);
        const size = generated.inputBytes;
        writeFileSync(join(dir, 'in.bin'), p.inputs.subarray(0, HOST_INPUTS * size));
        const run = await runTool(exe, [join(dir, 'in.bin'), join(dir, 'out.bin')]);
        expect(run.stderr).toBe('');
        expect(run.exitCode).toBe(0);
        const outputs = new Int8Array(readFileSync(join(dir, 'out.bin')));
        expect(mismatchedBytes(outputs, p.expected.subarray(0, HOST_INPUTS * generated.outputBytes))).toBe(0);
      });
    }
  });
}
