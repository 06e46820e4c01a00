// flexq's .tflite of four real models in two real TFLite interpreters, on both of their CPU paths (XNNPACK
// delegate, built-in kernels), against flexq's integer runtime in the matching mode: zero differing output bytes.
import { beforeAll, describe, expect, it } from 'vitest';
import { openDataset, type Preprocess } from '../../../calibration/index.js';
import { createIntegerRuntime } from '../../../runtime/executor.js';
import type { RequantMode } from '../../../runtime/requant/index.js';
import { quantize } from '../../../src/index.js';
import type { QuantizedGraph } from '../../../src/ir/quantized-graph.js';
import { pathExportOptions, type TfliteInterpreterKind, type TflitePath } from '../../../targets/tflite/executor.js';
import { problems } from '../../../targets/tflite/interpreter.js';
import { openLiteRt } from '../../../targets/tflite/litert.js';
import { openTfjsTflite } from '../../../targets/tflite/tfjs-tflite.js';
import { data, model } from '../../helpers/shared.js';
import { compareWithInterpreter, type OpenInterpreter } from './compare.js';

interface Source {
  readonly path: string;
  readonly labels?: string;
  readonly offset?: number;
  readonly limit: number;
}

interface ModelCase {
  readonly name: string;
  readonly file: string;
  readonly preprocess: Preprocess;
  readonly calib: Source;
  /** Held-out inputs compared byte for byte. */
  readonly inputs: Source;
  /** Whether the model has a global average pool (TFLite MEAN). */
  readonly mean: boolean;
}

const kws = { path: data('kws/features.npy'), labels: data('kws/labels.npy') };
const mnist = { path: data('mnist/test-images.npy'), labels: data('mnist/test-labels.npy') };

const MODELS: readonly ModelCase[] = [
  { name: 'ResNet-8', file: 'resnet8-cifar10/float.onnx', preprocess: 'none', calib: { path: data('cifar10/calib-1024'), limit: 256 }, inputs: { path: data('cifar10/test-200'), limit: 200 }, mean: true },
  { name: 'DS-CNN', file: 'dscnn-kws/float.onnx', preprocess: 'none', calib: { ...kws, limit: 500 }, inputs: { ...kws, offset: 500, limit: 200 }, mean: true },
  { name: 'MNIST-8', file: 'mnist-8/model.onnx', preprocess: 'unit', calib: { ...mnist, limit: 1000 }, inputs: { ...mnist, offset: 1000, limit: 200 }, mean: false },
  // 224×224: a few images keep the test within its time; the bench runs more (test/bench/tflite.bench.ts).
  { name: 'MobileNetV2', file: 'mobilenetv2-imagenet/float-from-int8.onnx', preprocess: 'imagenet', calib: { path: data('imagenet-sample'), limit: 32 }, inputs: { path: data('imagenet-sample'), offset: 500, limit: 6 }, mean: true },
];

/**
 * meanAsMode: whether the path's MEAN follows its mode too. tfjs-tflite's built-in MEAN is an older kernel than
 * LiteRT.js's (tflite-single's rule, checked alone in ops.test.ts), and no mode pairs it with the built-in convolutions:
 * its built-in path is compared here on the models without a MEAN.
 */
const PATHS: readonly { name: string; kind: TfliteInterpreterKind; open: OpenInterpreter; path: TflitePath; mode: RequantMode; meanAsMode: boolean }[] = [
  { name: 'LiteRT.js, XNNPACK', kind: 'litert', open: openLiteRt, path: 'xnnpack', mode: 'tflite-xnnpack', meanAsMode: true },
  { name: 'LiteRT.js, built-in kernels', kind: 'litert', open: openLiteRt, path: 'builtin', mode: 'tflite-builtin', meanAsMode: true },
  { name: 'tfjs-tflite, XNNPACK', kind: 'tfjs-tflite', open: openTfjsTflite, path: 'xnnpack', mode: 'tflite-xnnpack', meanAsMode: true },
  { name: 'tfjs-tflite, built-in kernels', kind: 'tfjs-tflite', open: openTfjsTflite, path: 'builtin', mode: 'tflite-builtin', meanAsMode: false },
];

/** The held-out samples as int8 on the input grid (TFLite's QUANTIZE rounding, the same in both modes). */
async function int8Inputs(q: QuantizedGraph, c: ModelCase): Promise<Int8Array[]> {
  const sample = q.graph.values.get(q.graph.inputs[0])!.shape.slice(1) as number[];
  const ds = await openDataset({ ...c.inputs, preprocess: c.preprocess, sampleShape: sample });
  const runtime = createIntegerRuntime(q, 'tflite-builtin');
  const out: Int8Array[] = [];
  for await (const b of ds.batches(32)) {
    const x = runtime.quantizeInput(b.data);
    const size = x.length / b.count;
    for (let i = 0; i < b.count; i++) out.push(x.slice(i * size, (i + 1) * size));
  }
  return out;
}

for (const c of MODELS) {
  describe(`${c.name} .tflite in TFLite interpreters`, () => {
    let q: QuantizedGraph;
    let inputs: Int8Array[];

    beforeAll(async () => {
      q = await quantize(model(c.file), {
        calib: c.calib.path, labels: c.calib.labels, limit: c.calib.limit, method: 'rtn',
        wbits: 8, abits: 8, seed: 0, observer: 'minmax', preprocess: c.preprocess, batch: 32,
      });
      inputs = await int8Inputs(q, c);
    });

    for (const p of PATHS.filter((p) => p.meanAsMode || !c.mean))
      it(`${p.name}: the same bytes as the runtime's ${p.mode} mode on ${c.inputs.limit} held-out inputs`, async () => {
        const r = await compareWithInterpreter(q, p.open, pathExportOptions(p.kind, p.path), p.mode, inputs);
        expect(problems(r.loadLog)).toEqual([]);
        const outputSize = (q.graph.values.get(q.graph.outputs[0])!.shape.slice(1) as number[]).reduce((a, b) => a * b, 1);
        expect(inputs.length).toBe(c.inputs.limit);
        expect(r.outputs).toBe(inputs.length * outputSize);
        expect(r.mismatches, `${r.mismatches} of ${r.outputs} output bytes differ`).toBe(0);
      });
  });
}
