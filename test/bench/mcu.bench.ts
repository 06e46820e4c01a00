/**
 * `npm run bench -- mcu`: ResNet-8, DS-CNN and MNIST-8 (RTN W8A8) compiled to C for the Cortex-M4, M7 and M55 with
 * the reference and the DSP-extension kernels: flash, arena, stack and instructions per inference, counted in QEMU
 * under -icount shift=0 through SysTick (instructions per tick measured by the harness's calibration loop), and the
 * ratio optimized / reference. Every build is also checked bit-exact against the integer runtime on the inputs.
 */
import { CORTEX_M_CORES, CORE_NAMES } from '../../targets/cortex-m/boards.js';
import { KERNEL_SETS } from '../../targets/cortex-m/lower.js';
import { generateC } from '../../targets/cortex-m/library.js';
import { proveOnCortexM } from '../../targets/cortex-m/prove.js';
import { MODEL_CASES, prepareCase } from '../targets/cortex-m/cases.js';
import type { BenchResult } from './table.js';

/** Inputs checked bit-exact per build (the instruction count is taken on the first). */
const CHECKED = 10;

export default async function mcu(): Promise<BenchResult> {
  const rows: (string | number)[][] = [];
  const raw: unknown[] = [];
  for (const c of MODEL_CASES) {
    const p = await prepareCase(c);
    for (const coreName of CORE_NAMES) {
      const core = CORTEX_M_CORES[coreName];
      const reports = [];
      for (const kernels of KERNEL_SETS) {
        const generated = generateC(p.q, kernels);
        const r = await proveOnCortexM(p.q, generated, core, p.inputs.subarray(0, CHECKED * generated.inputBytes), CHECKED);
        if (!r.bitExact) throw new Error(`${c.name} ${core.name} ${kernels}: ${r.mismatchedBytes} bytes differ from the integer runtime`);
        reports.push(r);
        raw.push({ model: c.name, ...r });
      }
      const [reference, optimized] = reports;
      for (const r of reports) {
        rows.push([
          c.name, core.name, r.kernels, (r.flashBytes / 1024).toFixed(1), (r.constantBytes / 1024).toFixed(1), (r.arenaBytes / 1024).toFixed(1),
          (r.stackBytes / 1024).toFixed(2), (r.instructionsPerInference / 1e6).toFixed(2),
          r === optimized ? (optimized.instructionsPerInference / reference.instructionsPerInference).toFixed(3) : '',
        ]);
      }
    }
  }
  return {
    title: 'Generated C on Cortex-M in QEMU (RTN W8A8, tflite-double, gcc 12.2 -O2)',
    columns: ['model', 'core', 'kernels', 'flash KiB', 'weights KiB', 'arena KiB', 'stack KiB', 'M instr / inference', 'optimized / reference'],
    rows,
    notes: [
      'flash = text + rodata + data of the whole ELF (model, kernels, harness, libm exp); weights = const arrays alone.',
      `Instructions: -icount shift=0 and SysTick; instructions per tick measured by the calibration loop: ${[...new Set(raw.map((r) => (r as { instructionsPerTick: number }).instructionsPerTick))].join(', ')}. Each build bit-exact on ${CHECKED} held-out inputs.`,
    ],
    extra: { reports: raw },
  };
}
