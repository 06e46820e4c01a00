import type { Command } from 'commander';
import { compile } from '../../api/compile.js';
import { compileTargets } from '../../api/registry.js';
import { fail } from '../../errors.js';
import { KERNEL_SETS, ROUNDINGS } from '../../target.js';
import { addDataOptions, oneOf, parseCount } from '../options.js';
import { addQuantizeOptions, quantizeOptions, type QuantizeFlags } from './quantize.js';

interface CompileFlags extends QuantizeFlags { target: string; output: string; kernels: string; check?: number; checkData?: string; force?: boolean; prefix?: string; example?: boolean; rounding?: string; json?: boolean }

export function registerCompile(program: Command): void {
  addQuantizeOptions(addDataOptions(program.command('compile').description('quantize, export, build and prove a model for a target').argument('<model>', '.onnx or .tflite model'), '--calib'))
    .requiredOption('--target <target>', compileTargets().join(' | '))
    .requiredOption('-o, --output <dir>', 'the folder to write model.fq, model.tflite and the target\'s build into')
    .option('--kernels <set>', 'reference | optimized (Cortex-M DSP extension)', 'optimized')
    .option('--check <n>', 'prove on N inputs (default: all of the proof data)', parseCount('--check', 1))
    .option('--check-data <path>', 'prove on this data (same preprocessing); default: the --calib samples calibration did not use, else the calibration samples')
    .option('--force', 'write into a non-empty folder flexq did not write (only its own files are replaced)')
    .option('--prefix <name>', 'the C identifier every exported symbol and macro starts with (default flexq_model)')
    .option('--example', 'also write c/example/, a bare-metal project for the target\'s board that runs in QEMU')
    .option('--rounding <rule>', 'requantization rounding of the C: double (TFLite-Micro\'s default) | single (TFLITE_SINGLE_ROUNDING) | xnnpack (XNNPACK\'s fp32 requantization: LiteRT\'s default path)', 'double')
    .option('--json', 'one JSON object on stdout')
    .action(async (model: string, f: CompileFlags) => {
      const target = oneOf('--target', f.target, compileTargets())!;
      const { files, proof, report, summary } = await compile(model, {
        ...quantizeOptions(f),
        target,
        output: f.output,
        kernels: oneOf('--kernels', f.kernels, KERNEL_SETS),
        check: f.check,
        checkData: f.checkData,
        force: f.force,
        source: { prefix: f.prefix, example: f.example, rounding: oneOf('--rounding', f.rounding, ROUNDINGS) },
      });
      if (f.json) process.stdout.write(JSON.stringify({ model, target, files, proof, ...report }) + '\n');
      else process.stdout.write(`wrote ${f.output}: ${files.length} files\n${summary}\n`);
      if (!report.bitExact) fail('TOOL_FAILED', `${model}: the ${target} build differs from the integer runtime in ${report.mismatchedBytes} output bytes (see ${report.artefact}); please report it`);
    });
}
