// The QEMU executors (qemu-m4, qemu-m7, qemu-m55): the generated C built once for the core (cached), and each batch
// run in one QEMU boot. The C's rounding follows the mode asked for (tflite-single: --rounding single, tflite-xnnpack:
// --rounding xnnpack; any other mode: the default double rounding, tflite-double). Inputs are quantized as that mode
// quantizes them and outputs dequantized, like the runtime executor, so validate can compare them with every other executor.

import type { BatchExecutor, ExecutorFactory, ExecutorOptions } from '../../src/target.js';
import { fail } from '../../src/errors.js';
import { sizeOf } from '../../src/ir/shape.js';
import type { QuantizedGraph } from '../../src/ir/quantized-graph.js';
import { createIntegerRuntime, dequantize } from '../../runtime/executor.js';
import { CORTEX_M_CORES, type CoreName } from './boards.js';
import { buildElf } from './build.js';
import { C_ROUNDINGS, cRequantMode, DEFAULT_C_ROUNDING, type CRounding, type KernelSet } from './lower.js';
import { generateC } from './library.js';
import { runInQemu } from './qemu.js';

export function qemuExecutor(coreName: CoreName, kernels: KernelSet = 'optimized'): ExecutorFactory {
  const core = CORTEX_M_CORES[coreName];
  return async (q: QuantizedGraph, o: ExecutorOptions): Promise<BatchExecutor> => {
    if (q.activations.size === 0) fail('BAD_ARGUMENT', `${q.graph.source}: quantized with --abits 32 (float activations); the ${core.executor} executor runs integer activations: use --executor float`);
    const rounding: CRounding = C_ROUNDINGS.find((r) => cRequantMode(r) === o.mode) ?? DEFAULT_C_ROUNDING;
    const c = generateC(q, kernels, { rounding, board: core.name });
    const { elf } = await buildElf(c, core, q.graph.source);
    const runtime = createIntegerRuntime(q, cRequantMode(rounding));
    return {
      name: `${core.executor} (${core.name}, ${core.machine}, ${kernels} kernels, ${rounding} rounding)`,
      graph: q.graph,
      async run(input) {
        const count = input.shape[0];
        const r = await runInQemu(elf, core, runtime.quantizeInput(input.data), count, c.outputBytes, { icount: false });
        // Each sample's outputs sit back to back (model.h): output k at its offset within the sample's bytes.
        let offset = 0;
        return new Map(c.outputs.map((o) => {
          const size = sizeOf(o.shape);
          const data = new Int8Array(count * size);
          for (let i = 0; i < count; i++) data.set(r.outputs.subarray(i * c.outputBytes + offset, i * c.outputBytes + offset + size), i * size);
          offset += size;
          const shape = [count, ...o.shape];
          return [o.name, { shape, data: dequantize({ shape, data, quant: o.quant }) }];
        }));
      },
      dispose() {},
    };
  };
}
