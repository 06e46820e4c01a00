// flexq compile end to end on MNIST-8 for the Cortex-M4 (quantize → .fq → C → ELF → QEMU proof → report), and its
// errors: a planned target, a model that does not fit the board (before any build).

import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { parseNpy } from '../../../calibration/index.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readFq } from '../../../src/quant/fq-file.js';
import { CORTEX_M_CORES } from '../../../targets/cortex-m/boards.js';
import { checkFits } from '../../../targets/cortex-m/build.js';
import { generateC } from '../../../targets/cortex-m/library.js';
import { runTool } from '../../../src/run-tool.js';
import { flexq } from '../../helpers/cli.js';
import { data, model } from '../../helpers/shared.js';
import { lacksTools } from '../../helpers/tools.js';

const out = mkdtempSync(join(tmpdir(), 'flexq-compile-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));
const mnist = [model('mnist-8/model.onnx'), '--calib', data('mnist/test-images.npy'), '--preprocess', 'unit', '--limit', '200'];

describe.skipIf(lacksTools('arm-gcc', 'qemu-arm'))('flexq compile --target cortex-m4', () => {
  it('writes model.fq, the C library and the ELF, and reports flash, RAM, instructions and bit-exactness', async () => {
    const r = await flexq('compile', ...mnist, '--check', '20', '--target', 'cortex-m4', '-o', out, '--json');
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as Record<string, number | boolean | string>;
    expect(report.bitExact).toBe(true);
    expect(report.checked).toBe(20);
    expect(report.mismatchedBytes).toBe(0);
    // Proven on samples calibration never saw: the 200 after the 200 it used.
    expect(report.proof).toEqual({ data: data('mnist/test-images.npy'), offset: 200, count: 20, calibrationData: false, quantizedBefore: false });
    expect(report.instructionsPerTick).toBe(40); // 25 MHz SysTick under -icount shift=0 (1 instruction per ns)
    expect(report.instructionsPerInference).toBeGreaterThan(1e6);
    expect(report.flashBytes).toBeGreaterThan(report.constantBytes as number);
    // RAM: everything the image keeps in RAM, from arm-none-eabi-size (the arena in its own section) plus the stack measured
    const sizes = (await runTool('arm-none-eabi-size', ['-A', join(out, 'model.elf')])).stdout;
    const section = (name: string): number => Number(sizes.split('\n').find((l) => l.startsWith(`${name} `))?.trim().split(/\s+/)[1] ?? 0);
    expect(report.arenaBytes).toBe(section('.flexq_arena'));
    expect(report.ramBytes).toBe(section('.data') + section('.bss') + section('.flexq_arena') + (report.stackBytes as number));
    expect(report.ramBytes).toBe((report.dataBytes as number) + (report.bssBytes as number) + (report.arenaBytes as number) + (report.stackBytes as number));
    for (const f of ['model.fq', 'model.elf', 'c/model.c', 'c/model.h', 'c/conv_dsp.c', 'c/README.md', 'c/Makefile', 'c/CMakeLists.txt']) expect(existsSync(join(out, f)), f).toBe(true);
  });

  it('--check-data proves on other data, and run --raw gives the same int8 outputs from the runtime and from QEMU', async () => {
    const again = await flexq('compile', ...mnist, '--check', '8', '--check-data', data('mnist/test-images.npy'), '--target', 'cortex-m4', '-o', out, '--json');
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ bitExact: true, checked: 8, proof: { offset: 0, count: 8, calibrationData: false } });
    const raw: Int8Array[] = [];
    for (const executor of ['runtime', 'qemu-m4']) {
      const npy = join(out, `${executor}.npy`);
      const r = await flexq('run', join(out, 'model.fq'), '--data', data('mnist/test-images.npy'), '--preprocess', 'unit', '--offset', '500', '--limit', '16', '--executor', executor, '--raw', '-o', npy);
      expect(r.code, r.stderr).toBe(0);
      const array = parseNpy(readFileSync(npy), npy);
      expect(array.descr).toBe('|i1');
      expect(array.shape).toEqual([16, 10]);
      raw.push(Int8Array.from(array.values as ArrayLike<number>));
    }
    expect(raw[1]).toEqual(raw[0]);
    expect(new Set(raw[0]).size).toBeGreaterThan(4); // real logits, not a constant
  });

  it('refuses a target nothing compiles for, listing the ones that exist', async () => {
    const r = await flexq('compile', ...mnist, '--target', 'a100', '-o', join(out, 'x'));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--target a100: expected one of cortex-m4, cortex-m7, cortex-m55');
  });

  it('says before building when the arena does not fit the board', () => {
    const c = generateC(readFq(join(out, 'model.fq')), 'reference');
    const tiny = { ...CORTEX_M_CORES['cortex-m4'], data: { origin: 0x20000000, bytes: 16 * 1024 } };
    expect(() => checkFits(c, tiny, 'mnist')).toThrow(/arena needs .* KiB .* has 16\.0 KiB of RAM/);
  });
});
