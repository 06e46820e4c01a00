// The Cortex-M cores flexq builds for, each with the QEMU board that runs it and that board's memory map.
// Everything is RAM in QEMU; CODE holds what a real part keeps in flash (text, rodata, the .data image), DATA the
// arena, .data/.bss and the stack. Maps from QEMU 7.2's hw/arm/mps2.c and mps2-tz.c.

export type CoreName = 'cortex-m4' | 'cortex-m7' | 'cortex-m55';

export interface MemoryRegion {
  readonly origin: number;
  readonly bytes: number;
}

export interface CortexMCore {
  readonly name: CoreName;
  /** The executor name registered for run/eval/validate. */
  readonly executor: string;
  /** qemu-system-arm -M. */
  readonly machine: string;
  readonly cflags: readonly string[];
  readonly code: MemoryRegion;
  readonly data: MemoryRegion;
}

const MiB = 1024 * 1024;
const KiB = 1024;

export const CORTEX_M_CORES: Readonly<Record<CoreName, CortexMCore>> = {
  'cortex-m4': {
    name: 'cortex-m4',
    executor: 'qemu-m4',
    machine: 'mps2-an386',
    cflags: ['-mcpu=cortex-m4', '-mfloat-abi=hard', '-mfpu=fpv4-sp-d16'],
    // ZBT SSRAM1 (4 MB at 0x0), SSRAM2/3 (4 MB at 0x20000000)
    code: { origin: 0x0, bytes: 4 * MiB },
    data: { origin: 0x20000000, bytes: 4 * MiB },
  },
  'cortex-m7': {
    name: 'cortex-m7',
    executor: 'qemu-m7',
    machine: 'mps2-an500',
    cflags: ['-mcpu=cortex-m7', '-mfloat-abi=hard', '-mfpu=fpv5-d16'],
    code: { origin: 0x0, bytes: 4 * MiB },
    data: { origin: 0x20000000, bytes: 4 * MiB },
  },
  'cortex-m55': {
    name: 'cortex-m55',
    executor: 'qemu-m55',
    machine: 'mps3-an547',
    cflags: ['-mcpu=cortex-m55', '-mfloat-abi=hard'],
    // SSE-300 ITCM (512 KB at 0x0, where the reset vector is read) and DTCM (512 KB at 0x20000000)
    code: { origin: 0x0, bytes: 512 * KiB },
    data: { origin: 0x20000000, bytes: 512 * KiB },
  },
};

export const CORE_NAMES = Object.keys(CORTEX_M_CORES) as CoreName[];

/** Flash kept for code beside the constants (kernels, model.c's calls and parameter structs, harness, libc parts). */
export const CODE_RESERVE_BYTES = 64 * KiB;

/** The most bytes of weights, biases and tables a core's flash holds. */
export const constantBudget = (core: CortexMCore): number => core.code.bytes - CODE_RESERVE_BYTES;

/** Stack reserved below the top of DATA: the deepest kernel frame measured is far below it (the harness reports it). */
export const STACK_BYTES = 16 * KiB;

/** memory.ld of a core, for harness/sections.ld. */
export function memoryScript(core: CortexMCore): string {
  const hex = (n: number) => `0x${n.toString(16)}`;
  return [
    `/* ${core.name} on QEMU ${core.machine} (written by flexq) */`,
    'MEMORY',
    '{',
    `  CODE (rx) : ORIGIN = ${hex(core.code.origin)}, LENGTH = ${hex(core.code.bytes)}`,
    `  DATA (rw) : ORIGIN = ${hex(core.data.origin)}, LENGTH = ${hex(core.data.bytes)}`,
    '}',
    `flexq_stack_size = ${hex(STACK_BYTES)};`,
    '',
  ].join('\n');
}
