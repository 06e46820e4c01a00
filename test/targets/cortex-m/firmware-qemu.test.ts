// The library in firmware, in QEMU: the example project of ResNet-8 and DS-CNN, built with its Makefile (gcc) and
// compiled with clang -Weverything, prints the integer runtime's bytes for a real float sample; two libraries with different prefixes link into one image and
// both stay bit-exact; the images carry no libm or soft-double code; and the report's RAM is the ELF's
// data + bss + arena + stack.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORTEX_M_CORES, memoryScript } from '../../../targets/cortex-m/boards.js';
import { ARM_FLAGS, arenaSectionDefine, buildElf, C_WARNINGS, CLANG_WARNINGS, elfSections, HARNESS_DIR, writeGenerated } from '../../../targets/cortex-m/build.js';
import { generateC } from '../../../targets/cortex-m/library.js';
import { proveOnCortexM } from '../../../targets/cortex-m/prove.js';
import { runTool } from '../../../src/run-tool.js';
import { lacksTools } from '../../helpers/tools.js';
import { CLANG_ARM } from './c-tools.js';
import { mismatchedBytes, MODEL_CASES, prepareCase, type PreparedCase } from './cases.js';

const work = mkdtempSync(join(tmpdir(), 'flexq-firmware-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const M4 = CORTEX_M_CORES['cortex-m4'];

/** libm, soft-float double and errno: what a float softmax or round() would pull in. */
const LIBM = /^(__aeabi_d\w+|__aeabi_[fi]2d|__adddf3|__muldf3|__divdf3|exp|expf|round|roundf|lround|__ieee754_\w+|errno|__errno|_impure_ptr|_impure_data)$/;

async function symbols(elf: string): Promise<string[]> {
  const nm = await runTool('arm-none-eabi-nm', [elf]);
  expect(nm.exitCode, nm.stderr).toBe(0);
  return nm.stdout.split('\n').map((l) => l.trim().split(/\s+/).pop()!).filter(Boolean);
}

/** The int8 values the example printed after "output:", in order. */
function printedOutput(stdout: string): number[] {
  return stdout.split('\n').filter((l) => l.startsWith('output:')).flatMap((l) => l.slice('output:'.length).trim().split(/\s+/).map(Number));
}

const cases = new Map<string, PreparedCase>();
beforeAll(async () => {
  for (const c of MODEL_CASES.filter((m) => m.name !== 'MNIST-8')) cases.set(c.name, await prepareCase(c));
});

const PREFIX: Record<string, string> = { 'ResNet-8': 'resnet8', 'DS-CNN': 'kws' };

describe.skipIf(lacksTools('arm-gcc', 'qemu-arm', 'make'))('the library in firmware on the cortex-m4 (QEMU mps2-an386)', () => {
  for (const name of ['ResNet-8', 'DS-CNN']) {
    it(`${name}: make -C example run prints the integer runtime's output bytes for a float sample; no libm in the image`, async () => {
      const p = cases.get(name)!;
      const size = p.inputs.length / p.count;
      const c = generateC(p.q, 'optimized', { prefix: PREFIX[name], example: true, board: 'cortex-m4', exampleInput: p.floats.subarray(0, size) });
      const dir = join(work, `example-${PREFIX[name]}`);
      writeGenerated(c, dir);
      const run = await runTool('make', ['-s', '-C', join(dir, 'example'), 'run'], { timeoutMs: 300_000 });
      expect(run.exitCode, run.stderr).toBe(0);
      const printed = printedOutput(run.stdout);
      expect(printed).toEqual(Array.from(p.expected.subarray(0, c.outputBytes))); // the C quantized the floats as the runtime did
      const top = printed.indexOf(Math.max(...printed));
      expect(run.stdout).toContain(`top-1: ${top}\n`);
      expect((await symbols(join(dir, 'example', 'example.elf'))).filter((s) => LIBM.test(s))).toEqual([]);
    });
  }

  for (const name of ['ResNet-8', 'DS-CNN']) {
    it.skipIf(lacksTools('clang'))(`${name}: the example compiled with clang (linked by arm-none-eabi-gcc with newlib) prints the same bytes`, async () => {
      const p = cases.get(name)!;
      const size = p.inputs.length / p.count;
      const c = generateC(p.q, 'optimized', { prefix: PREFIX[name], example: true, board: 'cortex-m4', exampleInput: p.floats.subarray(0, size) });
      const dir = join(work, `clang-${PREFIX[name]}`);
      writeGenerated(c, dir);
      const example = join(dir, 'example');
      const sources = [join(example, 'main.c'), join(example, 'startup.c'), ...c.sources.map((f) => join(dir, f))];
      // clang compiles for the core with arm-none-eabi's ABI (short enums, as newlib is built) and newlib's headers.
      const flags = [...CLANG_ARM, '-fshort-enums', ...M4.cflags, '-std=c99', '-O2', '-ffunction-sections', '-fdata-sections', ...CLANG_WARNINGS, arenaSectionDefine(PREFIX[name]), `-I${example}`, `-I${dir}`];
      const objects: string[] = [];
      for (const source of sources) {
        const object = join(example, `${source.split('/').pop()}.clang.o`);
        const cc = await runTool('clang', [...flags, '-c', source, '-o', object]);
        expect(cc.stderr, source).toBe('');
        expect(cc.exitCode).toBe(0);
        objects.push(object);
      }
      const elf = join(example, 'example-clang.elf');
      const link = await runTool('arm-none-eabi-gcc', [...M4.cflags, '-mthumb', ...objects, '-nostartfiles', '-Wl,--gc-sections', `-L${example}`, '-T', join(example, 'sections.ld'), '-o', elf, '-lc']);
      expect(link.exitCode, link.stderr).toBe(0);
      // As the example's `make run` starts it: the semihosting console on standard output.
      const run = await runTool('qemu-system-arm', ['-M', M4.machine, '-nographic', '-monitor', 'none', '-serial', 'none', '-chardev', 'stdio,id=console',
        '-semihosting-config', 'enable=on,target=native,chardev=console', '-kernel', elf], { timeoutMs: 300_000 });
      expect(run.exitCode, run.stderr).toBe(0);
      expect(printedOutput(run.stdout)).toEqual(Array.from(p.expected.subarray(0, c.outputBytes)));
      expect((await symbols(elf)).filter((sym) => LIBM.test(sym))).toEqual([]);
    });
  }

  it('DS-CNN: the proof ELF has no libm, soft-double or errno symbols, and RAM = size\'s data + bss + arena + stack', async () => {
    const p = cases.get('DS-CNN')!;
    const c = generateC(p.q, 'optimized');
    const count = 5;
    const report = await proveOnCortexM(p.q, c, M4, p.inputs.subarray(0, count * c.inputBytes), count);
    expect(report.bitExact).toBe(true);
    expect((await symbols(report.elf)).filter((s) => LIBM.test(s))).toEqual([]);
    const sizeA = await runTool('arm-none-eabi-size', ['-A', report.elf]);
    const section = (name: string): number => Number(sizeA.stdout.split('\n').find((l) => l.startsWith(`${name} `))?.trim().split(/\s+/)[1] ?? 0);
    expect(report.arenaBytes).toBe(c.arenaBytes);
    expect(section('.flexq_arena')).toBe(c.arenaBytes);
    expect([report.dataBytes, report.bssBytes]).toEqual([section('.data'), section('.bss')]);
    expect(report.ramBytes).toBe(section('.data') + section('.bss') + section('.flexq_arena') + report.stackBytes);
    expect(report.flashBytes).toBe(section('.text') + section('.rodata') + section('.data'));
    expect(report.stackBytes).toBeGreaterThan(0);
    expect(await elfSections(report.elf)).toEqual(report.sections);
  });

  it('ResNet-8 (prefix resnet8) and DS-CNN (prefix kws) link into one firmware and both give the runtime\'s bytes', async () => {
    const count = 10;
    const libraries = ['ResNet-8', 'DS-CNN'].map((name) => {
      const p = cases.get(name)!;
      const c = generateC(p.q, 'optimized', { prefix: PREFIX[name] });
      writeGenerated(c, join(work, 'two', PREFIX[name]));
      writeFileSync(join(work, 'two', `${PREFIX[name]}-in.bin`), p.inputs.subarray(0, count * c.inputBytes));
      return { name, p, c, prefix: PREFIX[name] };
    });
    const dir = join(work, 'two');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'memory.ld'), memoryScript(M4));
    // Each model's inputs from its own semihosting file, every output appended to one file, model after model.
    const step = (prefix: string): string => {
      const M = prefix.toUpperCase();
      return `  {
    static int8_t input[${M}_INPUT_SIZE], output[${M}_OUTPUT_SIZE];
    const int32_t in = semihosting_open("${prefix}-in.bin", ${prefix.length + 7}, SEMIHOSTING_MODE_READ_BINARY);
    if (in < 0) return 2;
    while (semihosting_read(in, input, ${M}_INPUT_SIZE) == 0) {
      if (${prefix}_invoke(input, output) != ${M}_OK || semihosting_write(out, output, ${M}_OUTPUT_SIZE) != 0) return 3;
    }
    semihosting_close(in);
  }`;
    };
    writeFileSync(join(dir, 'main.c'), [
      '#include <stdint.h>',
      ...libraries.map((l) => `#include "${l.prefix}/model.h"`),
      '#include "semihosting.h"',
      'int main(void);',
      'int main(void) {',
      '  const int32_t out = semihosting_open("out.bin", 7, SEMIHOSTING_MODE_WRITE_BINARY);',
      '  if (out < 0) return 2;',
      ...libraries.map((l) => step(l.prefix)),
      '  semihosting_close(out);',
      '  return 0;',
      '}',
      '',
    ].join('\n'));
    const sources = [join(dir, 'main.c'), join(HARNESS_DIR, 'startup.c'), ...libraries.flatMap((l) => l.c.sources.map((s) => join(dir, l.prefix, s)))];
    const elf = join(dir, 'two.elf');
    const gcc = await runTool('arm-none-eabi-gcc', [
      ...ARM_FLAGS, ...C_WARNINGS, ...M4.cflags, ...libraries.map((l) => arenaSectionDefine(l.prefix)), `-I${dir}`, `-I${HARNESS_DIR}`, ...sources,
      '-nostartfiles', '-Wl,--gc-sections', `-L${dir}`, `-T${join(HARNESS_DIR, 'sections.ld')}`, '-o', elf, '-lc',
    ]);
    expect(gcc.stderr).toBe('');
    const names = await symbols(elf);
    for (const l of libraries) expect(names).toContain(`${l.prefix}_conv_s8_dsp`);
    const run = await runTool('qemu-system-arm', ['-M', M4.machine, '-nographic', '-monitor', 'none', '-semihosting-config', 'enable=on,target=native', '-kernel', elf], { cwd: dir, timeoutMs: 300_000 });
    expect(run.exitCode, run.stderr).toBe(0);
    const out = new Int8Array(readFileSync(join(dir, 'out.bin')));
    let at = 0;
    for (const l of libraries) {
      const bytes = count * l.c.outputBytes;
      expect(mismatchedBytes(out.subarray(at, at + bytes), l.p.expected.subarray(0, bytes)), l.name).toBe(0);
      at += bytes;
    }
    expect(at).toBe(out.length);
    // both arenas in the one arena section, back to back
    expect((await elfSections(elf)).arena).toBe(libraries.reduce((s, l) => s + l.c.arenaBytes, 0));
  });

  it('the proof harness builds and runs a library with a non-default prefix', async () => {
    const p = cases.get('DS-CNN')!;
    const c = generateC(p.q, 'optimized', { prefix: 'kws' });
    const build = await buildElf(c, M4, 'DS-CNN');
    expect(await symbols(build.elf)).toContain('kws_invoke');
  });
});
