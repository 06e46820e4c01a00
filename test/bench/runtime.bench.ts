/**
 * `npm run bench -- runtime [--modes onnx,tflite-double] [--inputs N]`: milliseconds per input of flexq's integer
 * runtime, one input per run (as `flexq validate` and the exactness tests feed it), on the shared int8 models:
 * ResNet-8 and DS-CNN (int8-reference.tflite) and MobileNetV2 (int8-qat.tflite), imported as QuantizedGraphs.
 * Prepare (requantizer staircases, packed weights) is timed apart: it runs once per model and mode.
 */
import { createIntegerRuntime } from '../../runtime/executor.js';
import { checkMode, openArtefact, quantizedGraphOf } from '../../src/api/executors.js';
import { openData, readAllSamples, sampleShapeOf, type DataOptions } from '../../src/api/data.js';
import { sizeOf } from '../../src/ir/shape.js';
import { data, model } from '../helpers/shared.js';
import type { BenchResult } from './table.js';
import { fastestMs } from './timing.js';

interface Case {
  readonly name: string;
  readonly model: string;
  readonly data: string;
  readonly options: DataOptions;
}

const CASES: readonly Case[] = [
  { name: 'ResNet-8', model: model('resnet8-cifar10/int8-reference.tflite'), data: data('cifar10/test-200'), options: {} },
  { name: 'DS-CNN', model: model('dscnn-kws/int8-reference.tflite'), data: data('kws/features.npy'), options: { labels: data('kws/labels.npy') } },
  { name: 'MobileNetV2', model: model('mobilenetv2-imagenet/int8-qat.tflite'), data: data('imagenet-sample'), options: { preprocess: 'imagenet' } },
];

function option(args: string[], name: string, fallback: string): string {
  const at = args.indexOf(name);
  return at >= 0 && at + 1 < args.length ? args[at + 1] : fallback;
}

export default async function runtimeBench(args: string[]): Promise<BenchResult> {
  const modes = option(args, '--modes', 'onnx,tflite-double').split(',').map(checkMode);
  const inputs = Number(option(args, '--inputs', '8'));
  const rows: (string | number)[][] = [];
  for (const c of CASES) {
    const q = quantizedGraphOf(openArtefact(c.model))!;
    const shape = sampleShapeOf(q.graph, c.model);
    const samples = await readAllSamples(await openData(c.data, { ...c.options, limit: inputs }, shape));
    for (const mode of modes) {
      const start = performance.now();
      const rt = createIntegerRuntime(q, mode);
      const prepareMs = performance.now() - start;
      const x = rt.quantizeInput(samples);
      const per = sizeOf(shape);
      let next = 0;
      const one = async (): Promise<unknown> => {
        const i = next++ % inputs;
        return rt.run({ shape: [1, ...shape], data: x.subarray(i * per, (i + 1) * per) });
      };
      rows.push([c.name, mode, await fastestMs(one, inputs, 30 * inputs), prepareMs]);
    }
  }
  return {
    title: 'integer runtime, one input per run',
    columns: ['model', 'mode', 'ms per input (fastest)', 'prepare ms'],
    rows,
    notes: [`fastest of at least ${inputs} runs over ${inputs} inputs after 2 warm-up runs; prepare: createIntegerRuntime once, cold`],
  };
}
