// The example project written beside a library (example/): the QEMU harness's startup code, semihosting calls and
// linker script, the board's memory map, a main.c that quantizes one float sample, runs the model and prints the
// output through semihosting, and a Makefile with a `run` target.

import { sizeOf } from '../../src/ir/shape.js';
import { CORTEX_M_CORES, memoryScript, type CoreName } from './boards.js';
import { ARENA_SECTION, harnessSource } from './build.js';
import { cFloat, type GeneratedC } from './emit-c.js';
import { cpuFlags } from './library-docs.js';
import { fileHeader, withHeader, type Provenance } from './library-options.js';

export const EXAMPLE_DIR = 'example';

/** Harness files the example uses as they are (their names under example/ → the harness file). */
const HARNESS_COPIES: readonly (readonly [string, string])[] = [
  ['main.c', 'example_main.c'],
  ['startup.c', 'startup.c'],
  ['semihosting.h', 'semihosting.h'],
  ['sections.ld', 'sections.ld'],
];

export interface ExampleFacts {
  readonly c: GeneratedC;
  readonly provenance: Provenance;
  readonly board: CoreName;
  /** One float sample, NCHW; default: a ramp over the input grid's real range. */
  readonly input?: Float32Array;
}

/** The example's files, by their path under the library folder. */
export function exampleFiles(f: ExampleFacts): Map<string, string> {
  const { c, provenance, board } = f;
  const header = fileHeader('c', provenance, c.prefix);
  const files = new Map<string, string>();
  for (const [name, harness] of HARNESS_COPIES) files.set(`${EXAMPLE_DIR}/${name}`, withHeader(harnessSource(harness, c.prefix), header));
  files.set(`${EXAMPLE_DIR}/memory.ld`, header + memoryScript(CORTEX_M_CORES[board]));
  files.set(`${EXAMPLE_DIR}/example_input.h`, header + exampleInput(c, f.input));
  files.set(`${EXAMPLE_DIR}/Makefile`, exampleMakefile(c, provenance, board));
  return files;
}

/** The real values of the grid's range, from the lowest to the highest, in order: a deterministic input. */
function rampOver(c: GeneratedC): Float32Array {
  const { scale, zeroPoint, qmin, qmax } = c.input.quant;
  const n = sizeOf(c.input.shape);
  return Float32Array.from({ length: n }, (_, i) => scale * (qmin + ((qmax - qmin) * i) / Math.max(n - 1, 1) - zeroPoint));
}

function exampleInput(c: GeneratedC, given: Float32Array | undefined): string {
  const n = sizeOf(c.input.shape);
  if (given && given.length !== n) throw new Error(`example input: expected ${n} floats (one sample of [${c.input.shape.join(', ')}]), got ${given.length}`);
  const values = Array.from(given ?? rampOver(c), cFloat);
  const lines: string[] = [];
  for (let i = 0; i < values.length; i += 8) lines.push(`  ${values.slice(i, i + 8).join(', ')},`);
  return [
    `/* One float input sample, NCHW [1, ${c.input.shape.join(', ')}]: ${given ? 'a sample of the data flexq was given' : 'a ramp over the input grid\'s real range'}. */`,
    '#ifndef EXAMPLE_INPUT_H',
    '#define EXAMPLE_INPUT_H',
    '',
    `static const float example_input[${n}] = {`,
    ...lines,
    '};',
    '',
    '#endif',
    '',
  ].join('\n');
}

function exampleMakefile(c: GeneratedC, provenance: Provenance, board: CoreName): string {
  const core = CORTEX_M_CORES[board];
  return [
    fileHeader('hash', provenance, c.prefix).trimEnd(),
    `# The example for ${board} on QEMU's ${core.machine}: \`make\` builds example.elf from main.c, the startup code and the`,
    '# library in .., `make run` runs it in QEMU (the semihosting console is its standard output).',
    '',
    'ifeq ($(origin CC),default)',
    'CC = arm-none-eabi-gcc',
    'endif',
    `CPU_FLAGS ?= ${cpuFlags(board)}`,
    'CFLAGS ?= -O2 -ffunction-sections -fdata-sections',
    'WARNINGS ?= -Wall -Wextra -Wconversion -Wsign-conversion',
    'QEMU ?= qemu-system-arm',
    `MACHINE = ${core.machine}`,
    `# The arena in its own RAM section (sections.ld places ${ARENA_SECTION} as NOLOAD): the placement macro at work.`,
    `DEFINES = -D'${c.prefix.toUpperCase()}_ARENA_ATTRIBUTE=__attribute__((section("${ARENA_SECTION}")))'`,
    '',
    `LIBRARY_SOURCES = $(addprefix ../,${c.sources.join(' ')})`,
    `LIBRARY_HEADERS = $(addprefix ../,${c.headers.join(' ')})`,
    'SOURCES = main.c startup.c $(LIBRARY_SOURCES)',
    '',
    'example.elf: $(SOURCES) $(LIBRARY_HEADERS) example_input.h semihosting.h sections.ld memory.ld',
    '\t$(CC) -std=c99 $(CPU_FLAGS) $(CFLAGS) $(WARNINGS) $(DEFINES) -I. -I.. $(SOURCES) \\',
    '\t\t-nostartfiles -Wl,--gc-sections -L. -T sections.ld -o $@ -lc',
    '',
    'run: example.elf',
    '\t$(QEMU) -M $(MACHINE) -nographic -monitor none -serial none -chardev stdio,id=console \\',
    '\t\t-semihosting-config enable=on,target=native,chardev=console -kernel example.elf',
    '',
    'clean:',
    '\trm -f example.elf',
    '',
    '.PHONY: run clean',
    '',
  ].join('\n');
}
