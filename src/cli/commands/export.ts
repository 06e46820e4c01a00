import type { Command } from 'commander';
import { fail } from '../../errors.js';
import { readFq } from '../../quant/fq-file.js';
import type { QuantizedGraph } from '../../quant/quantized-graph.js';
import { exportOnnxQdq } from '../../export/onnx-qdq.js';
import { exportC } from '../../../targets/cortex-m/library.js';
import { exportTflite } from '../../export/tflite/index.js';

/** Options every exporter may read. */
export interface ExportOptions {
  /** Input/output tensors as int8 (the graph's own quantized I/O) or float (quantize/dequantize inside the model). */
  readonly io: 'int8' | 'float';
  /** Write into a non-empty output folder flexq did not write (folder formats only; other files are kept). */
  readonly force?: boolean;
}

/** Writes a quantized graph in one format to `output` (a file or a directory) and returns the paths it wrote. */
export type Exporter = (q: QuantizedGraph, output: string, o: ExportOptions) => Promise<string[]>;

/** Every export format, by the name `--format` takes; each target registers its exporter here. */
export const EXPORT_FORMATS: Record<string, Exporter> = {
  c: exportC,
  'onnx-qdq': exportOnnxQdq,
  tflite: exportTflite,
};

interface ExportCommandOptions { format: string; output: string; io: string; force?: boolean; json?: boolean }

export async function exportFq(fqPath: string, o: ExportCommandOptions): Promise<string[]> {
  const exporter = EXPORT_FORMATS[o.format];
  if (!exporter) fail('BAD_ARGUMENT', `--format ${o.format}: expected one of ${Object.keys(EXPORT_FORMATS).join(', ') || '(none built in)'}`);
  if (o.io !== 'int8' && o.io !== 'float') fail('BAD_ARGUMENT', `--io ${o.io}: expected int8 or float`);
  return exporter(readFq(fqPath), o.output, { io: o.io, force: o.force });
}

export function registerExport(program: Command): void {
  program
    .command('export')
    .description('write a quantized graph (.fq) as a deployable model')
    .argument('<quantized>', 'the .fq file')
    .requiredOption('--format <format>', `export format: ${Object.keys(EXPORT_FORMATS).join(' | ')}`)
    .requiredOption('-o, --output <path>', 'the file (or directory, for C) to write')
    .option('--io <type>', 'input/output tensor type: int8 | float', 'float')
    .option('--force', 'write into a non-empty folder flexq did not write (only its own files are replaced)')
    .option('--json', 'one JSON object on stdout')
    .action(async (quantized: string, o: ExportCommandOptions) => {
      const written = await exportFq(quantized, o);
      if (o.json) process.stdout.write(JSON.stringify({ input: quantized, format: o.format, written }) + '\n');
      else process.stdout.write(`wrote ${written.join(', ')}\n`);
    });
}
