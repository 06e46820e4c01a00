// Builds the generated C into an ELF for a Cortex-M core with arm-none-eabi-gcc and the QEMU harness (startup,
// semihosting main, linker script), and reads its flash and RAM from the ELF's sections. Builds are cached by the
// hash of everything that goes into them, in the system temp directory.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fail } from '../../src/errors.js';
import { CODE_RESERVE_BYTES, constantBudget, memoryScript, STACK_BYTES, type CortexMCore } from './boards.js';
import type { GeneratedC } from './emit-c.js';
import { DEFAULT_PREFIX } from './library-options.js';
import { runTool } from '../../src/run-tool.js';
import { kib } from '../../src/format-bytes.js';

export const HARNESS_DIR = fileURLToPath(new URL('./harness/', import.meta.url));
const HARNESS_SOURCES = ['startup.c', 'qemu_main.c'];
const HARNESS_FILES = [...HARNESS_SOURCES, 'semihosting.h', 'sections.ld'];

/** Flags of every C build: the generated library, its kernels and the harness compile warning-free under them. */
export const C_WARNINGS = ['-std=c99', '-Wall', '-Wextra', '-Wconversion', '-Wsign-conversion', '-Wshadow', '-Wstrict-prototypes', '-Wmissing-prototypes', '-Werror'];
/**
 * clang's -Weverything less what the code means to do: declarations after statements (C99: values are declared where
 * they are computed) and struct padding (parameter structs keep their fields in reading order; the bytes are few).
 */
export const CLANG_WARNINGS = ['-std=c99', '-Weverything', '-Wno-declaration-after-statement', '-Wno-padded', '-Werror'];
export const ARM_FLAGS = ['-O2', '-mthumb', '-ffunction-sections', '-fdata-sections', '-fno-common'];

/** The section the harness and the example place the arena in (harness/sections.ld), apart from .bss. */
export const ARENA_SECTION = '.flexq_arena';

/** -D of the macro that places a library's static arena in ARENA_SECTION. */
export function arenaSectionDefine(prefix: string): string {
  return `-D${prefix.toUpperCase()}_ARENA_ATTRIBUTE=__attribute__((section("${ARENA_SECTION}")))`;
}

/** A harness source for a library's prefix: the files use the default prefix's names (flexq_model_invoke, FLEXQ_MODEL_…). */
export function harnessSource(name: string, prefix: string): string {
  const text = readFileSync(join(HARNESS_DIR, name), 'utf8');
  if (prefix === DEFAULT_PREFIX) return text;
  return text.replace(/\bflexq_model_/g, `${prefix}_`).replace(/\bFLEXQ_MODEL_/g, `${prefix.toUpperCase()}_`);
}

export interface FlashAndRam {
  /** Code (.text: model, kernels, harness and the libc parts linked in). */
  readonly text: number;
  readonly rodata: number;
  /** Initialized data: its image sits in flash too, the data in RAM. */
  readonly data: number;
  /** Zeroed data (the harness's buffers, libc's state); the arena is apart, in `arena`. */
  readonly bss: number;
  /** The arena's section (ARENA_SECTION). */
  readonly arena: number;
}

export interface ElfBuild {
  readonly elf: string;
  readonly sections: FlashAndRam;
  /** text + rodata + data. */
  readonly flashBytes: number;
}

/** Checks, before any build, that the model fits the board: the arena (+ stack) in DATA, the constants in CODE. */
export function checkFits(c: GeneratedC, core: CortexMCore, what: string): void {
  if (c.arenaBytes + STACK_BYTES > core.data.bytes)
    fail('UNSUPPORTED_ATTR', `${what}: the arena needs ${kib(c.arenaBytes)} and the stack ${kib(STACK_BYTES)}, but ${core.name} (${core.machine}) has ${kib(core.data.bytes)} of RAM for data; use a smaller model or input, or a core with more RAM`);
  if (c.constantBytes > constantBudget(core))
    fail('UNSUPPORTED_ATTR', `${what}: weights and tables need ${kib(c.constantBytes)}, but ${core.name} (${core.machine}) has ${kib(constantBudget(core))} for constants (${kib(core.code.bytes)} less ${kib(CODE_RESERVE_BYTES)} for code)${c.kernels === 'optimized' ? `, even with int8 weights in the ${c.int8WeightLayers.length} layers whose int16 packing costs the most` : ''}: use fewer weight bits or a smaller model`);
}

function buildKey(c: GeneratedC, core: CortexMCore): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify([core, ARM_FLAGS, C_WARNINGS, STACK_BYTES, c.prefix]));
  for (const [name, text] of [...c.files].sort(([a], [b]) => a.localeCompare(b))) hash.update(`${name}\0${text}\0`);
  for (const name of HARNESS_FILES) hash.update(readFileSync(join(HARNESS_DIR, name)));
  return hash.digest('hex').slice(0, 24);
}

/** Writes the generated files into `dir` (created, with their sub-folders). */
export function writeGenerated(c: GeneratedC, dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of c.files) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
}

/** The ELF of the generated C and the proof harness on a core (cached), with its section sizes. */
export async function buildElf(c: GeneratedC, core: CortexMCore, what: string): Promise<ElfBuild> {
  checkFits(c, core, what);
  const dir = join(tmpdir(), 'flexq-cortex-m', `${core.name}-${buildKey(c, core)}`);
  const elf = join(dir, 'model.elf');
  if (!existsSync(elf)) {
    const work = `${dir}.tmp-${process.pid}`;
    rmSync(work, { recursive: true, force: true });
    try {
      writeGenerated(c, join(work, 'c'));
      mkdirSync(join(work, 'harness'));
      for (const name of HARNESS_FILES) writeFileSync(join(work, 'harness', name), harnessSource(name, c.prefix));
      writeFileSync(join(work, 'memory.ld'), memoryScript(core));
      const sources = [...c.sources.map((s) => join(work, 'c', s)), ...HARNESS_SOURCES.map((s) => join(work, 'harness', s))];
      const gcc = await runTool('arm-none-eabi-gcc', [
        ...ARM_FLAGS, ...C_WARNINGS, ...core.cflags, arenaSectionDefine(c.prefix), `-I${join(work, 'c')}`, `-I${join(work, 'harness')}`, ...sources,
        '-nostartfiles', '-Wl,--gc-sections', `-L${work}`, `-T${join(work, 'harness', 'sections.ld')}`, '-o', join(work, 'model.elf'), '-lc',
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
export async function elfSections(elf: string): Promise<FlashAndRam> {
  const { stdout, exitCode, stderr } = await runTool('arm-none-eabi-size', ['-A', elf]);
  if (exitCode !== 0) fail('UNSUPPORTED_ATTR', `${elf}: arm-none-eabi-size failed:\n${stderr}`);
  const size = new Map(stdout.split('\n').map((l) => l.trim().split(/\s+/)).filter((f) => f.length >= 2 && f[0].startsWith('.')).map((f) => [f[0], Number(f[1])]));
  const of = (name: string): number => size.get(name) ?? 0;
  return { text: of('.text'), rodata: of('.rodata'), data: of('.data'), bss: of('.bss'), arena: of(ARENA_SECTION) };
}
