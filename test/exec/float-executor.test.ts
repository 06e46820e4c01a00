import { readdirSync } from 'node:fs';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { openDataset, type DataSpec } from '../../calibration/index.js';
import { createFloatExecutor } from '../../src/exec/float-executor.js';
import type { FloatTensor } from '../../src/tensor.js';
import type { Graph } from '../../src/ir/graph.js';
import { verifyGraph } from '../../src/ir/verify.js';
import { importModel } from '../../src/import/index.js';
import { foldConstants } from '../../src/passes/fold-constants.js';
import { freeBatchDimension } from '../../src/passes/free-batch-dimension.js';
import { optimizeGraph } from '../../src/passes/pipeline.js';
import { data, model, relativeMaxError, runOrt } from '../helpers/shared.js';

async function firstBatch(spec: Omit<DataSpec, 'sampleShape'>, sampleShape: readonly number[], n: number): Promise<FloatTensor> {
  const ds = await openDataset({ ...spec, sampleShape, limit: n });
  for await (const b of ds.batches(n)) return { shape: [b.count, ...sampleShape], data: b.data };
  throw new Error('no data');
}

async function runFloat(graph: Graph, input: FloatTensor): Promise<Float32Array> {
  const ex = await createFloatExecutor(graph);
  try {
    return ex.run({ [graph.inputs[0]]: input }).get(graph.outputs[0])!.data;
  } finally {
    ex.dispose();
  }
}

/** Real inputs for each shared ONNX model, as the shared README prescribes. */
const CASES = [
  { name: 'resnet8', file: 'resnet8-cifar10/float.onnx', spec: { path: data('cifar10/test-200'), preprocess: 'none' }, n: 32 },
  { name: 'dscnn', file: 'dscnn-kws/float.onnx', spec: { path: data('kws/features.npy'), labels: data('kws/labels.npy'), preprocess: 'none' }, n: 64 },
  { name: 'mnist-8 (opset 8)', file: 'mnist-8/model.onnx', spec: { path: data('mnist/test-images.npy'), preprocess: 'unit' }, n: 64 },
  { name: 'mobilenetv2', file: 'mobilenetv2-imagenet/float-from-int8.onnx', spec: { path: data('imagenet-sample'), preprocess: 'imagenet' }, n: 8 },
] as const;

describe('float executor agrees with onnxruntime-node on real inputs (max |diff| ≤ 1e-4 · max |output|)', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const { graph: imported } = importModel(model(c.file));
      const graph = optimizeGraph(imported, (pass, g) => expect(verifyGraph(g), pass).toEqual([]));
      const input = await firstBatch(c.spec as DataSpec, graph.values.get(graph.inputs[0])!.shape.slice(1) as number[], c.n);
      const want = await runOrt(model(c.file), imported.inputs[0], input);
      const got = await runFloat(graph, input);
      expect(got.length).toBe(want.data.length);
      expect(relativeMaxError(got, want.data)).toBeLessThan(1e-4);
    });
  }

  it('ppocr-cls before and after BatchNorm folding', async () => {
    const path = model('ppocr-cls/model.onnx');
    const { graph: imported } = importModel(path, { inputShape: ['N', 3, 48, 192] });
    // Real photos squeezed to the classifier's 48×192 input, normalised (x/255 − 0.5)/0.5 as PaddleOCR does.
    const folder = data('imagenet-sample');
    const files = readdirSync(folder).slice(0, 4).map((d) => `${folder}/${d}/${readdirSync(`${folder}/${d}`)[0]}`);
    const planes = await Promise.all(
      files.map(async (f) => {
        const px = await sharp(f).resize(192, 48, { fit: 'fill' }).removeAlpha().raw().toBuffer();
        const chw = new Float32Array(3 * 48 * 192);
        for (let i = 0; i < 48 * 192; i++) for (let c = 0; c < 3; c++) chw[c * 48 * 192 + i] = (px[i * 3 + c] / 255 - 0.5) / 0.5;
        return chw;
      }),
    );
    const input: FloatTensor = { shape: [files.length, 3, 48, 192], data: Float32Array.from(planes.flatMap((p) => [...p])) };
    const want = await runOrt(path, 'x', input);
    const unfolded = foldConstants(freeBatchDimension(imported));
    expect(unfolded.nodes.filter((n) => n.op === 'BatchNormalization')).toHaveLength(35);
    const folded = optimizeGraph(imported);
    expect(folded.nodes.filter((n) => n.op === 'BatchNormalization')).toHaveLength(0);
    expect(folded.nodes.filter((n) => n.op === 'HardSwish').length).toBeGreaterThan(0);
    for (const g of [unfolded, folded]) expect(relativeMaxError(await runFloat(g, input), want.data)).toBeLessThan(1e-4);
  });

  it('runs any batch size through one prepared graph', async () => {
    const { graph } = { graph: optimizeGraph(importModel(model('resnet8-cifar10/float.onnx')).graph) };
    const batch = await firstBatch({ path: data('cifar10/test-200'), preprocess: 'none' }, [3, 32, 32], 5);
    const whole = await runFloat(graph, batch);
    const single = await runFloat(graph, { shape: [1, 3, 32, 32], data: batch.data.subarray(3 * 3072, 4 * 3072) });
    expect(relativeMaxError(single, whole.subarray(3 * 10, 4 * 10))).toBeLessThan(1e-6);
  });
});
