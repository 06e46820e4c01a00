import type { Command } from 'commander';
import { exportModel } from '../../api/export.js';
import { QDQ_FLAVOURS } from '../../export/onnx-qdq.js';
import { exportFormats } from '../../api/registry.js';
import { oneOf } from '../options.js';
import { ROUNDINGS } from '../../target.js';

interface ExportFlags { format: string; output: string; io: string; flavour: string; force?: boolean; prefix?: string; example?: boolean; board?: string; rounding?: string; json?: boolean }

export function registerExport(program: Command): void {
  program
    .command('export')
    .description('write a quantized graph (.fq, or an int8 .tflite another tool made) as a deployable model')
    .argument('<quantized>', 'the .fq file or int8 .tflite')
    .requiredOption('--format <format>', `export format: ${exportFormats().join(' | ')}`)
    .requiredOption('-o, --output <path>', 'the file (or folder, for c) to write')
    .option('--io <type>', 'input/output tensor type: int8 | float', 'float')
    .option('--flavour <runtime>', `onnx-qdq: ${QDQ_FLAVOURS.join(' | ')} (uint8 activations on onnxruntime-web's, or -node's with 7-bit weights, fast path)`, 'generic')
    .option('--force', 'write into a non-empty folder flexq did not write (only its own files are replaced)')
    .option('--prefix <name>', 'c: the C identifier every exported symbol and macro starts with (default flexq_model)')
    .option('--example', 'c: also write example/, a bare-metal project for --board that runs in QEMU')
    .option('--rounding <rule>', 'c: requantization rounding: double (TFLite-Micro\'s default) | single (TFLITE_SINGLE_ROUNDING) | xnnpack (XNNPACK\'s fp32 requantization: LiteRT\'s default path)', 'double')
    .option('--board <core>', 'c: the core of the Makefile\'s flags and of the example: cortex-m4 | cortex-m7 | cortex-m55')
    .option('--json', 'one JSON object on stdout')
    .action(async (quantized: string, f: ExportFlags) => {
      const format = oneOf('--format', f.format, exportFormats())!;
      const source = { prefix: f.prefix, example: f.example, board: f.board, rounding: oneOf('--rounding', f.rounding, ROUNDINGS) };
      const written = await exportModel(quantized, { format, output: f.output, io: oneOf('--io', f.io, ['int8', 'float'] as const), flavour: oneOf('--flavour', f.flavour, QDQ_FLAVOURS), force: f.force, source });
      if (f.json) process.stdout.write(JSON.stringify({ input: quantized, format, written }) + '\n');
      else process.stdout.write(`wrote ${written.join(', ')}\n`);
    });
}
