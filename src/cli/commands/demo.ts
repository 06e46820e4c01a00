import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { writeDemo, type DemoFiles } from '../../demo/write-demo.js';
import { fail } from '../../errors.js';
import { loadModel } from '../../load-model.js';
import { summarizeModel } from '../../model-summary.js';
import { parseCount } from '../options.js';
import { evaluate } from './eval.js';

interface DemoOptions { output: string; seed: number; json?: boolean }

const MAX_SEED = 0xffffffff;

function parseSeed(text: string): number {
  const seed = parseCount('--seed')(text);
  if (seed > MAX_SEED) fail('BAD_ARGUMENT', `--seed '${text}': expected an integer from 0 to ${MAX_SEED} (the PRNG has 32 bits of state)`);
  return seed;
}

/** A path as it must be typed in a POSIX shell. */
const shellWord = (path: string): string => (/^[\w./:-]+$/.test(path) ? path : `'${path.replaceAll("'", `'\\''`)}'`);

/** The job the demo runs on its model, as the commands a user would type (all images scaled to [0, 1] as in training). */
function demoSteps(files: DemoFiles): string[][] {
  const quantized = join(dirname(files.model), 'model-w8a8.fq');
  const unit = ['--preprocess', 'unit'];
  return [
    ['inspect', files.model],
    ['eval', files.model, '--data', files.test, ...unit],
    ['quantize', files.model, '--calib', files.calib, ...unit, '--wbits', '8', '--abits', '8', '-o', quantized],
    ['eval', quantized, '--data', files.test, ...unit],
    ['validate', files.model, quantized, '--data', files.test, ...unit, '--modes', 'tflite-double,onnx'],
  ];
}

const NEXT_STEPS = `
Next, try 4-bit weights (the first and last layer stay 8-bit), or your own model:
  flexq quantize MODEL.onnx --calib IMAGES/ --wbits 4 -o model-w4a8.fq
  flexq validate MODEL.onnx model-w4a8.fq --data TEST_IMAGES/
`;

async function runDemo(program: Command, opts: DemoOptions): Promise<void> {
  const files = await writeDemo(opts.output, opts.seed, (step, steps, loss) => process.stderr.write(`train: step ${step}/${steps} loss ${loss.toFixed(4)}\n`));
  const { trainSeconds, ...written } = files;
  if (opts.json) {
    const loaded = loadModel(files.model);
    const inspect = { model: files.model, format: loaded.format, ...summarizeModel(loaded.graph) };
    const evaluation = await evaluate(files.model, { data: files.test, preprocess: 'unit', batch: 32 });
    process.stdout.write(JSON.stringify({ model: files.model, files: written, trainSeconds, inspect, eval: evaluation }) + '\n');
    return;
  }
  process.stdout.write(
    `wrote ${files.model} (trained in ${trainSeconds.toFixed(1)} s, seed ${opts.seed})\n` +
      `wrote ${files.test}: ${files.testImages} held-out test images\n` +
      `wrote ${files.calib}: ${files.calibImages} calibration images\n`,
  );
  // The registered commands themselves run, so the demo prints exactly what each command prints.
  for (const args of demoSteps(files)) {
    process.stdout.write(`\n$ flexq ${args.map(shellWord).join(' ')}\n`);
    await program.parseAsync(args, { from: 'user' });
  }
  process.stdout.write(NEXT_STEPS);
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('train a small CNN on synthetic bar images, write it as ONNX with test and calibration images, then inspect and evaluate it')
    .option('-o, --output <dir>', 'folder to write model.onnx, test/ and calib/ into', 'flexq-demo')
    .option('--seed <n>', 'seed of the images and the initial weights; the same seed gives the same model.onnx bytes', parseSeed, 0)
    .option('--json', 'one JSON object on stdout')
    .action((opts: DemoOptions) => runDemo(program, opts));
}
