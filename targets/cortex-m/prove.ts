// The proof of a compiled model: its ELF run in QEMU on real inputs, byte for byte against flexq's integer runtime
// (in the mode of the library's rounding, what the C computes), plus what a user sizes a part by, from arm-none-eabi-size on the ELF:
// flash (text + rodata + the .data image), RAM (data + bss + arena + the stack measured) and instructions per
// inference (one more boot under -icount shift=0 on the first input).

import type { QuantizedGraph } from '../../src/ir/quantized-graph.js';
import { createIntegerRuntime } from '../../runtime/executor.js';
import type { CortexMCore } from './boards.js';
import { buildElf, type FlashAndRam } from './build.js';
import type { GeneratedC } from './emit-c.js';
import { cRequantMode, type CRequantMode } from './lower.js';
import { runInQemu } from './qemu.js';

export interface CortexMReport {
  readonly core: string;
  readonly machine: string;
  readonly kernels: string;
  /** Layers of an optimized build whose GEMM weights stay int8 (SXTB16 at run time) so the constants fit flash. */
  readonly int8WeightLayers: number;
  /** The requantization rounding of the build (double, single or xnnpack). */
  readonly rounding: string;
  readonly elf: string;
  readonly sections: FlashAndRam;
  /** text + rodata + data of the whole image (model, kernels, harness, libc parts). */
  readonly flashBytes: number;
  /** Weights, biases and tables alone. */
  readonly constantBytes: number;
  /** The arena's section in the ELF (the planned arena). */
  readonly arenaBytes: number;
  /** Initialized and zeroed data of the whole image (the harness's buffers, libc's state), the arena apart. */
  readonly dataBytes: number;
  readonly bssBytes: number;
  /** The deepest stack the inferences used (painted stack, measured in QEMU). */
  readonly stackBytes: number;
  /** dataBytes + bssBytes + arenaBytes + stackBytes: all the RAM the image uses. */
  readonly ramBytes: number;
  readonly instructionsPerInference: number;
  /** Instructions per SysTick tick that the harness's calibration loop measured under -icount shift=0. */
  readonly instructionsPerTick: number;
  readonly checked: number;
  readonly mismatchedBytes: number;
  readonly bitExact: boolean;
}

/** Builds and runs `count` int8 inputs (already quantized) and compares with the runtime. */
export async function proveOnCortexM(q: QuantizedGraph, c: GeneratedC, core: CortexMCore, inputs: Int8Array, count: number): Promise<CortexMReport> {
  const build = await buildElf(c, core, q.graph.source);
  const run = await runInQemu(build.elf, core, inputs, count, c.outputBytes, { icount: false });
  const timed = await runInQemu(build.elf, core, inputs.subarray(0, c.inputBytes), 1, c.outputBytes, { icount: true });
  const want = runtimeOutputBytes(q, inputs, count, cRequantMode(c.rounding));
  let mismatchedBytes = 0;
  for (let i = 0; i < want.length; i++) if (want[i] !== run.outputs[i]) mismatchedBytes++;
  return {
    core: core.name,
    machine: core.machine,
    kernels: c.kernels,
    int8WeightLayers: c.int8WeightLayers.length,
    rounding: c.rounding,
    elf: build.elf,
    sections: build.sections,
    flashBytes: build.flashBytes,
    constantBytes: c.constantBytes,
    arenaBytes: build.sections.arena,
    dataBytes: build.sections.data,
    bssBytes: build.sections.bss,
    stackBytes: run.stackBytes,
    ramBytes: build.sections.data + build.sections.bss + build.sections.arena + run.stackBytes,
    instructionsPerInference: timed.counts!.instructions[0],
    instructionsPerTick: timed.counts!.instructionsPerTick,
    checked: count,
    mismatchedBytes,
    bitExact: mismatchedBytes === 0,
  };
}

/**
 * The integer runtime's outputs for `count` int8 inputs, laid out as the C writes them: per sample, every graph output
 * back to back (one output: the runtime's bytes as they are).
 */
export function runtimeOutputBytes(q: QuantizedGraph, inputs: Int8Array, count: number, mode: CRequantMode): Int8Array {
  const sample = q.graph.values.get(q.graph.inputs[0])!.shape.slice(1) as number[];
  const results = createIntegerRuntime(q, mode).run({ shape: [count, ...sample], data: inputs });
  const outputs = q.graph.outputs.map((name) => results.get(name)!.data);
  const sizes = outputs.map((o) => o.length / count);
  const perSample = sizes.reduce((a, b) => a + b, 0);
  const bytes = new Int8Array(count * perSample);
  for (let i = 0, at = 0; i < count; i++)
    outputs.forEach((o, k) => {
      bytes.set(o.subarray(i * sizes[k], (i + 1) * sizes[k]), at);
      at += sizes[k];
    });
  return bytes;
}
