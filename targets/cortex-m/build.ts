// Builds the generated C into an ELF for a Cortex-M core with arm-none-eabi-gcc and the QEMU harness (startup,
// semihosting main, linker script), and reads its flash and RAM from the ELF's sections. Builds are cached by the
// hash of everything that goes into them, in the system temp directory.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fail } from '../../src/errors.js';
import { memoryScript, STACK_BYTES, type CortexMCore } from './boards.js';
import type { GeneratedC } from './emit-c.js';
import { runTool } from './run-tool.js';

export const HARNESS_DIR = fileURLToPath(new URL('./harness/', import.meta.url));
const HARNESS_SOURCES = ['startup.c', 'qemu_main.c'];
const HARNESS_FILES = [...HARNESS_SOURCES, 'semihosting.h', 'sections.ld'];

/** Flags of every C build: the generated library must compile warning-free. */
export const C_WARNINGS = ['-std=c99', '-Wall', '-Wextra', '-Werror'];
const ARM_FLAGS = ['-O2', '-mthumb', '-ffunction-sections', '-fdata-sections', '-fno-common'];

export interface FlashAndRam {
  /** Code (.text: model, kernels, harness and the libm/libc parts linked in). */
  readonly text: number;
  readonly rodata: number;
  /** Initialized data: its image sits in flash too. */
  readonly data: number;
  readonly bss: number;
}

export interface ElfBuild {
  readonly elf: string;
  readonly sections: FlashAndRam;
  /** text + rodata + data. */
  readonly flashBytes: number;
}

/** Checks, before any build, that the model fits the board: the arena (+ stack) in DATA, the constants in CODE. */
export function checkFits(c: GeneratedC, core: CortexMCore, what: string): void {
  const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
  if (c.arenaBytes + STACK_BYTES > core.data.bytes)
    fail('UNSUPPORTED_ATTR', `${what}: the arena needs ${kib(c.arenaBytes)} and the stack ${kib(STACK_BYTES)}, but ${core.name} (${core.machine}) has ${kib(core.data.bytes)} of RAM for data; use a smaller model or input, or a core with more RAM`);
  if (c.constantBytes > core.code.bytes)
    fail('UNSUPPORTED_ATTR', `${what}: weights and tables need ${kib(c.constantBytes)}, but ${core.name} (${core.machine}) has ${kib(core.code.bytes)} for code and constants; use fewer weight bits or a smaller model`);
}

function buildKey(c: GeneratedC, core: CortexMCore): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify([core, ARM_FLAGS, C_WARNINGS, STACK_BYTES]));
  for (const [name, text] of [...c.files].sort(([a], [b]) => a.localeCompare(b))) hash.update(`${name}\0${text}\0`);
  for (const name of HARNESS_FILES) hash.update(readFileSync(join(HARNESS_DIR, name)));
  return hash.digest('hex').slice(0, 24);
}

/** Writes the generated files into `dir` (created). */
export function writeGenerated(c: GeneratedC, dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of c.files) writeFileSync(join(dir, name), text);
}

/** The ELF of the generated C on a core (cached), with its section sizes. */
export async function buildElf(c: GeneratedC, core: CortexMCore, what: string): Promise<ElfBuild> {
  checkFits(c, core, what);
  const dir = join(tmpdir(), 'flexq-cortex-m', `${core.name}-${buildKey(c, core)}`);
  const elf = join(dir, 'model.elf');
  if (!existsSync(elf)) {
    const work = `${dir}.tmp-${process.pid}`;
    rmSync(work, { recursive: true, force: true });
    try {
      writeGenerated(c, join(work, 'c'));
      writeFileSync(join(work, 'memory.ld'), memoryScript(core));
      const sources = [...c.sources.map((s) => join(work, 'c', s)), ...HARNESS_SOURCES.map((s) => join(HARNESS_DIR, s))];
      const gcc = await runTool('arm-none-eabi-gcc', [
        ...ARM_FLAGS, ...C_WARNINGS, ...core.cflags, `-I${join(work, 'c')}`, `-I${HARNESS_DIR}`, ...sources,
        '-nostartfiles', '-Wl,--gc-sections', `-L${work}`, `-T${join(HARNESS_DIR, 'sections.ld')}`, '-o', join(work, 'model.elf'), '-lm', '-lc',
      ]);
      if (gcc.exitCode !== 0) fail('UNSUPPORTED_ATTR', `${what}: arm-none-eabi-gcc failed for ${core.name}:\n${gcc.stderr}`);
      rmSync(dir, { recursive: true, force: true });
      renameSync(work, dir);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
  const sections = await elfSections(elf);
  return { elf, sections, flashBytes: sections.text + sections.rodata + sections.data };
}

/** Section sizes from arm-none-eabi-size -A. */
async function elfSections(elf: string): Promise<FlashAndRam> {
  const { stdout } = await runTool('arm-none-eabi-size', ['-A', elf]);
  const size = new Map(stdout.split('\n').map((l) => l.trim().split(/\s+/)).filter((f) => f.length >= 2 && f[0].startsWith('.')).map((f) => [f[0], Number(f[1])]));
  return { text: size.get('.text') ?? 0, rodata: size.get('.rodata') ?? 0, data: size.get('.data') ?? 0, bss: size.get('.bss') ?? 0 };
}
