import type { Command } from 'commander';
import { ACTIVATION_BITS, DEFAULT_GRANULARITY, DEFAULT_ITERATIONS, DEFAULT_LR_SCHEDULE, GRANULARITIES, quantize, QUANT_METHODS, SETTINGS, WEIGHT_BITS, type QuantizeOptions } from '../../api/quantize.js';
import { readBitPlan } from '../../api/bit-plan.js';
import { BACKEND_KINDS } from '../../backend/select.js';
import { OBSERVER_KINDS } from '../../../calibration/observers.js';
import { checkpointPath, removeCheckpoint } from '../../quant/checkpoint.js';
import { writeFq } from '../../quant/fq-file.js';
import { WEIGHT_RANGES } from '../../quant/schemes.js';
import { LR_SCHEDULES } from '../../quant/lr-schedule.js';
import { addDataOptions, dataOptions, oneOf, parseCount, type DataFlags } from '../options.js';
import { createProgress } from '../progress.js';
import { deploymentTargets } from '../../api/registry.js';

/** The quantize flags as commander hands them over (shared with compile). */
export interface QuantizeFlags extends DataFlags {
  calib: string;
  method: string;
  wbits: number;
  abits: number;
  observer: string;
  seed: number;
  granularity: string;
  setting: string;
  iters?: number;
  lr?: number;
  lrSchedule: string;
  samples?: number;
  backend: string;
  weightRange: string;
  perChannel?: boolean;
  equalize?: boolean;
  biasCorrection?: boolean;
  resume?: boolean;
  bits?: string;
}

/** The flags as the API's typed options; each bad value is an error naming its flag. */
export function quantizeOptions(f: QuantizeFlags): QuantizeOptions {
  return {
    ...dataOptions(f),
    calib: f.calib,
    method: oneOf('--method', f.method, QUANT_METHODS),
    wbits: oneOf('--wbits', f.wbits, WEIGHT_BITS),
    abits: oneOf('--abits', f.abits, ACTIVATION_BITS, ' (32 keeps activations float)'),
    observer: oneOf('--observer', f.observer, OBSERVER_KINDS),
    seed: f.seed,
    granularity: oneOf('--granularity', f.granularity, GRANULARITIES),
    setting: oneOf('--setting', f.setting, SETTINGS),
    iters: f.iters,
    lr: f.lr,
    lrSchedule: oneOf('--lr-schedule', f.lrSchedule, LR_SCHEDULES),
    samples: f.samples,
    backend: oneOf('--backend', f.backend, BACKEND_KINDS),
    weightRange: oneOf('--weight-range', f.weightRange, WEIGHT_RANGES),
    weightScales: f.perChannel ? 'per-channel' : 'per-tensor',
    equalize: f.equalize,
    biasCorrection: f.biasCorrection,
    resume: f.resume,
    layerBits: f.bits !== undefined ? readBitPlan(f.bits) : undefined,
    progress: createProgress,
    log: (line) => process.stderr.write(`${line}\n`),
  };
}

/** The options of quantization, shared by `quantize` and `compile` (which quantizes first). */
export function addQuantizeOptions(cmd: Command): Command {
  return cmd
    .option('--method <method>', QUANT_METHODS.join(' | '), 'rtn')
    .option('--wbits <bits>', 'weight bits: 8 | 4 | 3 | 2 (first and last layer stay 8)', parseCount('--wbits', 2), 8)
    .option('--abits <bits>', 'activation bits: 8 | 4 | 32 (float)', parseCount('--abits', 2), 8)
    .option('--observer <kind>', `activation range: ${OBSERVER_KINDS.join(' | ')}`, 'minmax')
    .option('--seed <n>', 'seed of every random choice', parseCount('--seed'), 0)
    .option('--granularity <unit>', 'reconstruct block by block (residual blocks, separable pairs) or layer by layer', DEFAULT_GRANULARITY)
    .option('--setting <setting>', 'brecq (quantized inputs) | qdrop (activation quantization dropped with p = 0.5)', 'brecq')
    .option('--iters <n>', `iterations per layer/block (default ${DEFAULT_ITERATIONS})`, parseCount('--iters', 1))
    .option('--lr <x>', 'Adam learning rate of the layers --wbits wide (default: the paper\'s for the method and bits, raised for budgets under its iterations); FlexRound\'s layers of another width learn at that width\'s rate (the 8-bit first and last of a W3/W4 run at 1/16 of it; a W2 run\'s at its rate)', parseFloat)
    .option('--lr-schedule <schedule>', `learning rate over a layer's/block's iterations: ${LR_SCHEDULES.join(' | ')} (cosine decays it to 0)`, DEFAULT_LR_SCHEDULE)
    .option('--samples <n>', 'calibration samples to use (default: all of --calib after --offset/--limit)', parseCount('--samples', 1))
    .option('--backend <kind>', `tensor backend for reconstruction: ${BACKEND_KINDS.join(' | ')}`, 'auto')
    .option('--weight-range <range>', 'int8 | int7 (7-bit weights on every layer: onnxruntime-node\'s uint8 kernels cannot saturate; export --flavour ort-node)', 'int8')
    .option('--per-channel', 'one weight scale per output channel of every Conv and transB Gemm (rtn and flexround; default per tensor)')
    .option('--equalize', 'rescale conv channels (through relu, depthwise, residual adds) so each fills its 8-bit activation grid; needs --per-channel')
    .option('--bias-correction', 'move each conv bias by the mean output shift its weight rounding causes on the calibration data (--method rtn)')
    .option('--bits <plan>', 'per-layer weight bits from a plan (PLAN.json of validate --suggest-bits); layers it leaves out take --wbits')
    .option('--resume', 'continue an interrupted reconstruction from OUTPUT.resume');
}

export function registerQuantize(program: Command): void {
  addQuantizeOptions(addDataOptions(program.command('quantize').description('quantize a model after training and write the QuantizedGraph (.fq)').argument('<model>', '.onnx or .tflite model'), '--calib'))
    .requiredOption('-o, --output <file>', 'the .fq file to write')
    .option('--target <target>', `check first that every node deploys on ${deploymentTargets().join(' | ')}`)
    .option('--json', 'one JSON object on stdout')
    .action(async (model: string, f: QuantizeFlags & { output: string; target?: string; json?: boolean }) => {
      const start = performance.now();
      const target = oneOf('--target', f.target, deploymentTargets());
      const q = await quantize(model, { ...quantizeOptions(f), target, checkpoint: checkpointPath(f.output) });
      writeFq(f.output, q);
      removeCheckpoint(checkpointPath(f.output));
      const summary = { output: f.output, ...q.info, layers: q.weights.size, activations: q.activations.size, seconds: (performance.now() - start) / 1000 };
      if (f.json) process.stdout.write(JSON.stringify(summary) + '\n');
      else process.stdout.write(`wrote ${f.output}: ${q.info.method} W${q.info.wbits}A${q.info.abits}, ${summary.layers} weighted layers, ${summary.activations} activation grids, ${summary.seconds.toFixed(1)} s\n`);
    });
}
