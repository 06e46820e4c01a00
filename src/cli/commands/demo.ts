import type { Command } from 'commander';
import { runDemo, type DemoReport } from '../../demo/run-demo.js';
import { fail } from '../../errors.js';
import { parseCount } from '../options.js';
import { createProgress } from '../progress.js';
import { kib } from '../../format-bytes.js';

interface DemoFlags { output: string; seed: number; force?: boolean; json?: boolean }

const MAX_SEED = 0xffffffff;

function parseSeed(text: string): number {
  const seed = parseCount('--seed')(text);
  if (seed > MAX_SEED) fail('BAD_ARGUMENT', `--seed '${text}': expected an integer from 0 to ${MAX_SEED} (the PRNG has 32 bits of state)`);
  return seed;
}

const pct = (x: number): string => `${(100 * x).toFixed(2)} %`;

/** Rows of three aligned columns, Markdown-style, with a header rule. */
function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, k) => Math.max(h.length, ...rows.map((r) => r[k].length)));
  const line = (cells: readonly string[]) => `| ${cells.map((c, k) => c.padEnd(widths[k])).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

function summaryRows(r: DemoReport): string[][] {
  const bits = `W${r.wbits}A${r.abits}`;
  const rows = [
    ['float model', `${pct(r.float.top1)} top-1`, `${r.model.weightedLayers} weighted layers, ${r.model.params} parameters, trained in ${r.model.trainSeconds.toFixed(1)} s; ${r.model.testImages} held-out images`],
    [`RTN ${bits}`, `${pct(r.rtn.top1)} top-1`, `rounding to nearest; first and last layer 8-bit; integer runtime`],
    [`FlexRound ${bits}`, `${pct(r.flexround.top1)} top-1`, `${r.gainPoints >= 0 ? '+' : ''}${r.gainPoints.toFixed(2)} points over RTN; ${r.flexroundIterations} iterations per block, ${r.flexround.seconds.toFixed(1)} s; calibrated on ${r.model.calibImages} calib/ images`],
    ['export', 'written', `model.tflite ${kib(r.exports.tflite.bytes)} (TFLite int8), model.qdq.onnx ${kib(r.exports.qdq.bytes)} (ONNX QDQ); float input and output`],
  ];
  for (const e of r.executors)
    rows.push([
      `${e.executor} on ${e.artefact.split('/').pop()}`,
      e.mismatchedBytes === 0 ? 'bit-exact' : 'MISMATCH',
      `${e.mismatchedBytes} of ${e.outputBytes} output bytes differ from the integer runtime (${e.mode}), ${e.samples} images; top-1 ${pct(e.top1)}`,
    ]);
  const m = r.cortexM;
  const where = `${m.core} in QEMU`;
  if (m.status === 'proved')
    rows.push([
      where,
      m.bitExact ? 'bit-exact' : 'MISMATCH',
      `${m.mismatchedBytes} of ${m.outputBytes} output bytes differ from the integer runtime, ${m.checked} images; flash ${kib(m.flashBytes)}, RAM ${kib(m.ramBytes)} (arena ${kib(m.arenaBytes)}, stack ${kib(m.stackBytes)}), ${(m.instructionsPerInference / 1e6).toFixed(2)} M instructions per inference`,
    ]);
  else if (m.status === 'skipped') rows.push([where, 'not run', `skipped: ${m.reason}; add them with ${m.install}`]);
  else rows.push([where, 'FAILED', `${m.reason.split('\n')[0]} (the whole message follows the table)`]);
  return rows;
}

/** What each file of the demo folder is, by its role in DemoReport.files. */
const FILE_ROLES: Readonly<Record<keyof DemoReport['files'], string>> = {
  model: 'the float model (ONNX)',
  test: 'held-out test images (ImageFolder)',
  calib: 'calibration images (ImageFolder)',
  rtn: 'the RTN quantized graph',
  flexround: 'the FlexRound quantized graph',
  tflite: 'TFLite int8 (LiteRT, TFLite-Micro)',
  qdq: 'ONNX QDQ for onnxruntime-web (the serve page)',
  web: 'the serve page\'s settings (preprocessing, labels)',
  c: 'the C library for Cortex-M',
  elf: 'the Cortex-M4 firmware run in QEMU',
  report: 'this summary as JSON',
};

function describe(r: DemoReport): string {
  const entries = Object.entries(r.files) as [keyof DemoReport['files'], string][];
  const width = Math.max(...entries.map(([, path]) => path.length));
  const files = entries.map(([role, path]) => `  ${path.padEnd(width)}  ${FILE_ROLES[role]}`);
  return [
    `flexq demo (seed ${r.seed}): ${r.model.classes.length}-class synthetic bars, FlexRound against rounding to nearest at W${r.wbits}A${r.abits}`,
    '',
    table(['step', 'result', 'detail'], summaryRows(r)),
    '',
    `artefacts in ${r.folder}:`,
    ...files,
    '',
    `see the QDQ model in a browser (onnxruntime-web): ${r.serve}`,
    `total ${r.seconds.toFixed(1)} s`,
  ].join('\n');
}

/** What went wrong in a finished demo, if anything: a real runtime disagreeing with the integer runtime, or a failed build. */
function failures(r: DemoReport): string[] {
  const bad = r.executors.filter((e) => e.mismatchedBytes > 0).map((e) => `${e.executor} differs from the integer runtime (${e.mode}) in ${e.mismatchedBytes} output bytes`);
  if (r.cortexM.status === 'failed') bad.push(`${r.cortexM.core}: ${r.cortexM.reason}`);
  if (r.cortexM.status === 'proved' && !r.cortexM.bitExact) bad.push(`${r.cortexM.core} in QEMU differs from the integer runtime in ${r.cortexM.mismatchedBytes} output bytes`);
  return bad;
}

async function demo(f: DemoFlags): Promise<void> {
  const report = await runDemo({
    output: f.output,
    seed: f.seed,
    force: f.force,
    progress: createProgress,
    log: (line) => process.stderr.write(`${line}\n`),
    onTrainStep: (step, steps, loss) => process.stderr.write(`train: step ${step}/${steps} loss ${loss.toFixed(4)}\n`),
  });
  process.stdout.write(f.json ? JSON.stringify(report) + '\n' : describe(report) + '\n');
  const bad = failures(report);
  if (bad.length > 0) fail('TOOL_FAILED', `${report.folder}: ${bad.join('; ')}; the artefacts are kept there: please report it`);
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'train a small CNN on synthetic bar images, then in one run: float accuracy, RTN against FlexRound at low bits, ' +
        'export to .tflite and ONNX QDQ, each run by LiteRT / onnxruntime-web and checked bit-exact, and the Cortex-M4 build run in QEMU',
    )
    .option('-o, --output <dir>', 'the folder to write every demo file into (written whole at the end)', 'flexq-demo')
    .option('--seed <n>', 'seed of the images, the initial weights and the quantization; the same seed gives the same files', parseSeed, 0)
    .option('--force', 'write into a non-empty folder flexq did not write (only its own files are replaced)')
    .option('--json', 'one JSON object on stdout with every figure of the summary')
    .action((f: DemoFlags) => demo(f));
}
