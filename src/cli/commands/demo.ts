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

/** The eval the demo runs: the held-out images, scaled to [0, 1] as the model was trained. */
const evalArgs = (files: DemoFiles): string[] => [files.model, '--data', files.test, '--preprocess', 'unit'];

function nextSteps(files: DemoFiles): string {
  const command = (args: string[], why: string): string => `  flexq ${args.map(shellWord).join(' ')}\n      ${why}`;
  const quantized = join(dirname(files.model), 'model-w4a8.fq');
  return [
    '',
    'Next, try:',
    command(['inspect', files.model, '--raw'], 'the graph as the file states it, before flexq\'s passes'),
    command(['quantize', files.model, '--calib', files.calib, '--preprocess', 'unit', '--wbits', '4', '-o', quantized], `4-bit weights, 8-bit activations, calibrated on ${files.calibImages} images apart from training and test`),
    command(['eval', quantized, '--data', files.test, '--preprocess', 'unit'], 'the quantized model\'s accuracy, to set beside the float one above'),
    '',
  ].join('\n');
}

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
      `wrote ${files.calib}: ${files.calibImages} calibration images\n\n` +
      `$ flexq inspect ${shellWord(files.model)}\n`,
  );
  // The registered commands themselves run, so the demo prints exactly what `flexq inspect` and `flexq eval` print.
  await program.parseAsync(['inspect', files.model], { from: 'user' });
  process.stdout.write(`\n$ flexq eval ${evalArgs(files).map(shellWord).join(' ')}\n`);
  await program.parseAsync(['eval', ...evalArgs(files)], { from: 'user' });
  process.stdout.write(nextSteps(files));
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
