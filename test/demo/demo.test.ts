import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { listImageFolder } from '../../calibration/image-folder.js';
import { openDataset, type Batch } from '../../calibration/index.js';
import { evaluate } from '../../src/cli/commands/eval.js';
import { BAR_CLASSES, BAR_SIZE, drawBars, seededStream } from '../../src/demo/synthetic-bars.js';
import { demoLogits, encodeDemoOnnx, trainDemoModel, type DemoWeights } from '../../src/demo/train-demo-model.js';
import { writeDemo, type DemoFiles } from '../../src/demo/write-demo.js';
import { loadModel } from '../../src/load-model.js';
import { flexq } from '../helpers/cli.js';
import { relativeMaxError, runOrt } from '../helpers/shared.js';

const SEED = 7;
const SAMPLE = [1, BAR_SIZE, BAR_SIZE];

async function firstBatch(folder: string, count: number): Promise<Batch> {
  const dataset = await openDataset({ path: folder, preprocess: 'unit', sampleShape: SAMPLE, limit: count });
  for await (const batch of dataset.batches(count)) return batch;
  throw new Error(`${folder}: no images`);
}

let dir: string;
let files: DemoFiles;
let weights: DemoWeights;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'flexq-demo-'));
  files = await writeDemo(join(dir, 'a'), SEED);
  // A second, independent training with the same seed: the reference for the ONNX file's bytes and outputs.
  weights = (await trainDemoModel(SEED)).weights;
});

describe('flexq demo', () => {
  it('trains in under 20 s', () => {
    expect(files.trainSeconds).toBeLessThan(20);
  });

  it('writes a model that imports with the expected ops and I/O', () => {
    const { imported, graph } = loadModel(files.model);
    expect(imported.nodes.map((n) => n.op)).toEqual(['Conv', 'Relu', 'MaxPool', 'Conv', 'Relu', 'GlobalAveragePool', 'Flatten', 'Gemm']);
    expect(graph.inputs).toEqual(['image']);
    expect(graph.outputs).toEqual(['logits']);
    expect(imported.values.get('image')!.shape).toEqual([1, ...SAMPLE]);
  });

  it('writes test and calibration ImageFolders with every class', async () => {
    for (const [root, count] of [[files.test, 200], [files.calib, 256]] as const) {
      const listing = await listImageFolder(root);
      expect(listing.classNames).toEqual([...BAR_CLASSES]);
      expect(listing.entries.length).toBe(count);
    }
  });

  it('reaches ≥ 95 % top-1 on the held-out images with the float executor', async () => {
    const report = await evaluate(files.model, { data: files.test, preprocess: 'unit', batch: 32 });
    expect(report.count).toBe(200);
    expect(report.top1).toBeGreaterThanOrEqual(0.95);
  });

  it('gives byte-identical model.onnx for the same seed and different bytes for another seed', async () => {
    const written = readFileSync(files.model);
    expect(Buffer.from(encodeDemoOnnx(weights)).equals(written)).toBe(true);
    const other = encodeDemoOnnx((await trainDemoModel(SEED + 1)).weights);
    expect(Buffer.from(other).equals(written)).toBe(false);
  });

  it('onnxruntime-node runs model.onnx on the PNGs as TensorFlow.js runs the trained network (≤ 1e-4 relative)', async () => {
    const count = 8;
    const batch = await firstBatch(files.test, count);
    // The folder interleaves classes, which is the order the test stream drew them in.
    const bars = drawBars(count, seededStream(SEED, 'test'));
    expect(batch.data).toEqual(Float32Array.from(bars.images.flatMap((image) => [...image].map((v) => v / 255))));
    const onnxLogits = await runOrt(files.model, 'image', { shape: [count, ...SAMPLE], data: batch.data });
    const tfjsLogits = await demoLogits(weights, bars);
    expect(onnxLogits.shape).toEqual([count, BAR_CLASSES.length]);
    expect(relativeMaxError(onnxLogits.data, tfjsLogits)).toBeLessThan(1e-4);
  });

  it('`flexq demo --json` writes the same model.onnx and reports inspect and eval', async () => {
    const out = join(dir, 'cli');
    const r = await flexq('demo', '-o', out, '--seed', String(SEED), '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('train: step 50/');
    const report = JSON.parse(r.stdout);
    expect(report.model).toBe(join(out, 'model.onnx'));
    expect(report.inspect.ops).toMatchObject({ Conv: 2, Gemm: 1 });
    expect(report.eval.top1).toBeGreaterThanOrEqual(0.95);
    expect(readFileSync(report.model).equals(readFileSync(files.model))).toBe(true);
  });
});
