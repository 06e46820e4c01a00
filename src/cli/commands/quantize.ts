import type { Command } from 'commander';
import { openDataset } from '../../../calibration/index.js';
import { OBSERVERS, type ObserverKind } from '../../../calibration/observers.js';
import { fail } from '../../errors.js';
import { createFloatExecutor } from '../../exec/float-executor.js';
import { loadModel } from '../../load-model.js';
import { calibrateActivations } from '../../quant/calibrate.js';
import { writeFq } from '../../quant/fq-file.js';
import type { ActivationQuant, QuantizedGraph } from '../../quant/quantized-graph.js';
import { quantizeRtn } from '../../quant/rtn.js';
import { FLEXQ_VERSION } from '../../version.js';
import { parseCount, parseInputShape } from '../options.js';
import { createProgress } from '../progress.js';
import { addDataOptions, sampleShapeOf, type DataOptions } from './eval.js';

export interface QuantizeOptions extends DataOptions {
  calib: string;
  output: string;
  method: string;
  wbits: number;
  abits: number;
  seed: number;
  observer: ObserverKind;
  json?: boolean;
}

const WBITS = [8, 4, 3, 2];
const ABITS = [8, 4, 32];

function checkOptions(o: QuantizeOptions): void {
  if (o.method !== 'rtn') fail('BAD_ARGUMENT', `--method ${o.method}: this flexq implements rtn; flexround, adaround and adaquant come with the reconstruction engine`);
  if (!WBITS.includes(o.wbits)) fail('BAD_ARGUMENT', `--wbits ${o.wbits}: expected one of ${WBITS.join(', ')}`);
  if (!ABITS.includes(o.abits)) fail('BAD_ARGUMENT', `--abits ${o.abits}: expected one of ${ABITS.join(', ')} (32 keeps activations float)`);
  if (!(o.observer in OBSERVERS)) fail('BAD_ARGUMENT', `--observer ${o.observer}: expected one of ${Object.keys(OBSERVERS).join(', ')}`);
}

/** Quantizes a model: calibrate activation grids on the float model, round weights, return the QuantizedGraph. */
export async function quantizeModel(model: string, o: QuantizeOptions): Promise<QuantizedGraph> {
  checkOptions(o);
  const { graph } = loadModel(model, { inputShape: parseInputShape(o.inputShape) });
  const sampleShape = sampleShapeOf(graph, model);
  const data = await openDataset({ path: o.calib, labels: o.labels, preprocess: o.preprocess, layout: o.layout, limit: o.limit, offset: o.offset, sampleShape });
  let activations = new Map<string, ActivationQuant>();
  if (o.abits < 32) {
    const executor = await createFloatExecutor(graph);
    const progress = createProgress('calibrate', data.size);
    try {
      activations = await calibrateActivations(graph, executor, data, OBSERVERS[o.observer], o.abits, o.batch, progress);
    } finally {
      executor.dispose();
    }
    progress.finish();
  }
  return quantizeRtn(graph, activations, { wbits: o.wbits, edgeBits: 8 }, {
    flexqVersion: FLEXQ_VERSION,
    method: 'rtn',
    wbits: o.wbits,
    abits: o.abits,
    seed: o.seed,
    model,
    calibrationSamples: o.abits < 32 ? data.size : 0,
  });
}

export function registerQuantize(program: Command): void {
  addDataOptions(program.command('quantize').description('quantize a model after training and write the QuantizedGraph (.fq)').argument('<model>', '.onnx or .tflite model'), '--calib')
    .requiredOption('-o, --output <file>', 'the .fq file to write')
    .option('--method <method>', 'rtn (flexround | adaround | adaquant: with the reconstruction engine)', 'rtn')
    .option('--wbits <bits>', 'weight bits: 8 | 4 | 3 | 2 (first and last layer stay 8)', parseCount('--wbits', 2), 8)
    .option('--abits <bits>', 'activation bits: 8 | 4 | 32 (float)', parseCount('--abits', 2), 8)
    .option('--observer <kind>', 'activation range: minmax | mse | percentile', 'minmax')
    .option('--seed <n>', 'seed of every random choice', parseCount('--seed'), 0)
    .option('--json', 'one JSON object on stdout')
    .action(async (model: string, o: QuantizeOptions) => {
      const start = performance.now();
      const q = await quantizeModel(model, o);
      writeFq(o.output, q);
      const summary = {
        output: o.output,
        ...q.info,
        layers: q.weights.size,
        activations: q.activations.size,
        seconds: (performance.now() - start) / 1000,
      };
      if (o.json) process.stdout.write(JSON.stringify(summary) + '\n');
      else process.stdout.write(`wrote ${o.output}: ${q.info.method} W${q.info.wbits}A${q.info.abits}, ${summary.layers} weighted layers, ${summary.activations} activation grids, ${summary.seconds.toFixed(1)} s\n`);
    });
}
