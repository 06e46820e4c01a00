import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { openDataset } from '../../../calibration/index.js';
import { CORTEX_M_CORES, type CoreName } from '../../../targets/cortex-m/boards.js';
import { checkFits } from '../../../targets/cortex-m/build.js';
import { generateC, writeCLibrary } from '../../../targets/cortex-m/library.js';
import { C_REQUANT_MODE, KERNEL_SETS, type KernelSet } from '../../../targets/cortex-m/lower.js';
import { proveOnCortexM, type CortexMReport } from '../../../targets/cortex-m/prove.js';
import { createIntegerRuntime } from '../../../runtime/executor.js';
import { fail } from '../../errors.js';
import { sizeOf } from '../../ir/shape.js';
import { writeFq } from '../../quant/fq-file.js';
import { checkpointPath, removeCheckpoint } from '../../quant/checkpoint.js';
import { checkOutputFolder, writeOutputFolder } from '../../output-folder.js';
import type { QuantizedGraph } from '../../quant/quantized-graph.js';
import { parseCount } from '../options.js';
import { sampleShapeOf } from './eval.js';
import { exportTflite } from '../../export/tflite/index.js';
import { addQuantizeOptions, quantizeModel, type QuantizeOptions } from './quantize.js';
import { addDataOptions } from './eval.js';

// flexq compile: quantize → out/model.fq → the target's artefacts → build → run in the target's emulator on the
// calibration inputs → compare with the integer runtime → report. One table from --target to what compiles it.

interface CompileOptions extends Omit<QuantizeOptions, 'output'> {
  target: string;
  output: string;
  kernels: string;
  check?: number;
  force?: boolean;
}

/** What a compile target receives: the quantized graph, the output folder, and the inputs to prove it on. */
export interface CompileJob {
  readonly q: QuantizedGraph;
  readonly outDir: string;
  readonly kernels: KernelSet;
  /** Float NCHW samples from --calib (the first --check of them), and how many. */
  readonly inputs: Float32Array;
  readonly count: number;
}

export type CompileTarget = (job: CompileJob) => Promise<CortexMReport>;

function cortexM(name: CoreName): CompileTarget {
  const core = CORTEX_M_CORES[name];
  return async (job) => {
    const c = generateC(job.q, job.kernels);
    checkFits(c, core, job.q.graph.source); // before anything is built
    await writeCLibrary(c, join(job.outDir, 'c'));
    const runtime = createIntegerRuntime(job.q, C_REQUANT_MODE);
    const report = await proveOnCortexM(job.q, c, core, runtime.quantizeInput(job.inputs), job.count);
    copyFileSync(report.elf, join(job.outDir, 'model.elf'));
    return { ...report, elf: join(job.outDir, 'model.elf') };
  };
}

/** Every --target; undefined marks one that is planned and not built yet. */
export const COMPILE_TARGETS: Record<string, CompileTarget | undefined> = {
  'cortex-m4': cortexM('cortex-m4'),
  'cortex-m7': cortexM('cortex-m7'),
  'cortex-m55': cortexM('cortex-m55'),
  tflite: undefined,
  onnx: undefined,
  a100: undefined,
};

function targetOf(name: string): CompileTarget {
  if (!Object.hasOwn(COMPILE_TARGETS, name)) fail('BAD_ARGUMENT', `--target ${name}: expected one of ${Object.keys(COMPILE_TARGETS).join(', ')}`);
  const target = COMPILE_TARGETS[name];
  if (!target) fail('BAD_ARGUMENT', `--target ${name} is not available yet; available: ${Object.entries(COMPILE_TARGETS).filter(([, t]) => t).map(([n]) => n).join(', ')}`);
  return target;
}

async function loadInputs(q: QuantizedGraph, model: string, o: CompileOptions): Promise<{ inputs: Float32Array; count: number }> {
  const sampleShape = sampleShapeOf(q.graph, model);
  const limit = o.check === undefined ? o.limit : Math.min(o.check, o.limit ?? Infinity);
  const data = await openDataset({ path: o.calib, labels: o.labels, preprocess: o.preprocess, layout: o.layout, limit, offset: o.offset, sampleShape });
  const inputs = new Float32Array(data.size * sizeOf(sampleShape));
  let at = 0;
  for await (const batch of data.batches(o.batch)) {
    inputs.set(batch.data, at);
    at += batch.data.length;
  }
  return { inputs, count: data.size };
}

/**
 * Quantizes, exports, builds and proves into the folder `o.output`. The folder is checked before any work and
 * written whole at the end (built beside it), so a failure leaves no partial output and a user's files are kept.
 */
export async function compileModel(model: string, o: CompileOptions): Promise<{ files: string[]; report: CortexMReport }> {
  const target = targetOf(o.target);
  if (!(KERNEL_SETS as readonly string[]).includes(o.kernels)) fail('BAD_ARGUMENT', `--kernels ${o.kernels}: expected one of ${KERNEL_SETS.join(', ')}`);
  checkOutputFolder(o.output, { force: o.force });
  // The resume file sits beside the folder (OUT.resume), not in it: the folder holds only finished outputs.
  const resumeBase = o.output.replace(/\/+$/, '');
  const q = await quantizeModel(model, { ...o, output: resumeBase });
  const { inputs, count } = await loadInputs(q, model, o);
  let report: CortexMReport | undefined;
  await writeOutputFolder(o.output, async (staging) => {
    writeFq(join(staging, 'model.fq'), q);
    await exportTflite(q, join(staging, 'model.tflite'), { io: 'int8' });
    report = await target({ q, outDir: staging, kernels: o.kernels as KernelSet, inputs, count });
  }, { force: o.force });
  removeCheckpoint(checkpointPath(resumeBase));
  const elf = join(o.output, 'model.elf');
  return { files: [join(o.output, 'model.fq'), join(o.output, 'model.tflite'), join(o.output, 'c'), elf], report: { ...report!, elf } };
}

function describe(r: CortexMReport): string {
  const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
  return [
    `${r.core} (${r.machine}), ${r.kernels} kernels`,
    `  flash        ${kib(r.flashBytes)} (text ${kib(r.sections.text)}, rodata ${kib(r.sections.rodata)}, data ${kib(r.sections.data)}; weights and tables ${kib(r.constantBytes)})`,
    `  RAM          ${kib(r.ramBytes)} (arena ${kib(r.arenaBytes)}, stack ${kib(r.stackBytes)})`,
    `  instructions ${(r.instructionsPerInference / 1e6).toFixed(2)} M per inference`,
    `  bit-exact    ${r.bitExact ? 'yes' : 'NO'}: ${r.checked} inputs, ${r.mismatchedBytes} output bytes differ from the integer runtime`,
  ].join('\n');
}

export function registerCompile(program: Command): void {
  addQuantizeOptions(addDataOptions(program.command('compile').description('quantize, export, build and prove a model for a target').argument('<model>', '.onnx or .tflite model'), '--calib'))
    .requiredOption('--target <target>', Object.keys(COMPILE_TARGETS).join(' | '))
    .requiredOption('-o, --output <dir>', 'the folder to write model.fq, c/, model.elf (and model.tflite) into')
    .option('--kernels <set>', 'reference | optimized (Cortex-M DSP extension)', 'optimized')
    .option('--check <n>', 'prove on the first N calibration inputs (default: all)', parseCount('--check', 1))
    .option('--force', 'write into a non-empty folder flexq did not write (only its own files are replaced)')
    .option('--json', 'one JSON object on stdout')
    .action(async (model: string, o: CompileOptions) => {
      const { files, report } = await compileModel(model, o);
      if (o.json) process.stdout.write(JSON.stringify({ model, target: o.target, files, ...report }) + '\n');
      else process.stdout.write(`wrote ${files.join(', ')}\n${describe(report)}\n`);
      if (!report.bitExact) fail('UNSUPPORTED_ATTR', `${model}: the ${report.core} build differs from the integer runtime in ${report.mismatchedBytes} output bytes (see ${report.elf}); please report it`);
    });
}
