// The Cortex-M target: the C library (export --format c), the QEMU executors (qemu-m4/m7/m55), and compile for each
// core: C → ELF (arm-none-eabi-gcc) → run in QEMU on the job's inputs → byte-compared with the integer runtime.

import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { createIntegerRuntime } from '../../runtime/executor.js';
import type { CompileReport, Compiler, Target } from '../../src/target.js';
import { CORE_NAMES, CORTEX_M_CORES, type CoreName } from './boards.js';
import { fail } from '../../src/errors.js';
import { checkFits } from './build.js';
import { qemuExecutor } from './executor.js';
import { exportC, generateC, writeCLibrary } from './library.js';
import { cRequantMode, isCOp } from './lower.js';
import { proveOnCortexM, type CortexMReport } from './prove.js';
import { kib } from '../../src/format-bytes.js';

/** The proof's figures; the ELF is the report's artefact (the proof's own build sits in a cache). */
export type CortexMCompileReport = Omit<CortexMReport, 'elf'> & CompileReport;


function describe(r: CortexMCompileReport): string {
  return [
    `${r.core} (${r.machine}), ${r.kernels} kernels${r.int8WeightLayers > 0 ? ` (${r.int8WeightLayers} layers keep int8 GEMM weights to fit flash)` : ''}, ${r.rounding} rounding`,
    `  flash        ${kib(r.flashBytes)} (text ${kib(r.sections.text)}, rodata ${kib(r.sections.rodata)}, data ${kib(r.sections.data)}; weights and tables ${kib(r.constantBytes)})`,
    `  RAM          ${kib(r.ramBytes)} (arena ${kib(r.arenaBytes)}, stack ${kib(r.stackBytes)}, data ${kib(r.dataBytes)}, bss ${kib(r.bssBytes)})`,
    `  instructions ${(r.instructionsPerInference / 1e6).toFixed(2)} M per inference`,
    `  bit-exact    ${r.bitExact ? 'yes' : 'NO'}: ${r.checked} inputs, ${r.mismatchedBytes} output bytes differ from the integer runtime`,
  ].join('\n');
}

function coreName(board: string | undefined): CoreName | undefined {
  if (board !== undefined && !(CORE_NAMES as readonly string[]).includes(board)) fail('BAD_ARGUMENT', `board '${board}': expected one of ${CORE_NAMES.join(', ')}`);
  return board as CoreName | undefined;
}

function cortexMCompiler(name: CoreName): Compiler<CortexMCompileReport> {
  const core = CORTEX_M_CORES[name];
  return {
    executor: core.executor,
    async compile(job) {
      const sample = job.inputs.length / job.count;
      const c = generateC(job.q, job.kernels, { ...job.source, board: core.name, exampleInput: job.inputs.subarray(0, sample) });
      checkFits(c, core, job.q.graph.source); // before anything is built
      await writeCLibrary(c, join(job.outDir, 'c'));
      const runtime = createIntegerRuntime(job.q, cRequantMode(c.rounding));
      const { elf, ...report } = await proveOnCortexM(job.q, c, core, runtime.quantizeInput(job.inputs), job.count);
      copyFileSync(elf, join(job.outDir, 'model.elf'));
      return { ...report, artefact: 'model.elf' };
    },
    describe,
  };
}

export const CORTEX_M_TARGET: Target = {
  name: 'cortex-m',
  description: 'C library for Arm Cortex-M4/M7/M55 (no heap, one static arena), built with arm-none-eabi-gcc and proven in QEMU',
  exporters: { c: (q, output, o) => exportC(q, output, { force: o.force, ...o.source, board: coreName(o.source?.board) }) },
  executors: Object.fromEntries(Object.values(CORTEX_M_CORES).map((core) => [core.executor, qemuExecutor(core.name)])),
  compilers: Object.fromEntries(Object.values(CORTEX_M_CORES).map((core) => [core.name, cortexMCompiler(core.name) as Compiler])),
  cannotDeploy: (node) => (isCOp(node.op) ? undefined : `the C target has no ${node.op} kernel`),
};
