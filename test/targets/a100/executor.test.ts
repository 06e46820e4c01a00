// `--executor a100`: registered; without a usable GPU it stops with an error that names what is missing; and its graph
// walk (TS kernels for the other ops, one runner job per Conv / Gemm / MatMul built from the QuantizedGraph) gives the
// runtime's a100 bytes on every activation of quantized real models when the jobs run on the runner's host
// reference. On a GPU the same walk runs the kernels (gpu.test.ts).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openDataset } from '../../../calibration/index.js';
import { createIntegerRuntime, dequantize } from '../../../runtime/executor.js';
import { executorNames, quantize } from '../../../src/index.js';
import { A100_TARGET } from '../../../targets/a100/target.js';
import { FlexqError } from '../../../src/errors.js';
import { buildA100, type A100Build } from '../../../targets/a100/build.js';
import { a100Executor, createA100Executor, requireA100Device } from '../../../targets/a100/executor.js';
import { OBSERVERS } from '../../../calibration/observers.js';
import { createFloatExecutor } from '../../../src/exec/float-executor.js';
import { calibrateActivations } from '../../../src/quant/calibrate.js';
import { quantizeRtn } from '../../../src/quant/rtn.js';
import { floats, graphOf, node, randomFloats } from '../../helpers/graphs.js';
import { flexq } from '../../helpers/cli.js';
import { data, model } from '../../helpers/shared.js';

const hasNvidiaDriver = (() => {
  try {
    execFileSync('nvidia-smi', ['-L'], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
})();

let build: A100Build;
beforeAll(async () => {
  build = await buildA100();
});

describe('a100 executor', () => {
  it('is registered as --executor a100', () => {
    expect(A100_TARGET.executors?.a100).toBe(a100Executor);
    expect(executorNames()).toContain('a100');
  });

  it.skipIf(hasNvidiaDriver)('without a GPU fails with DEVICE_MISSING naming what is missing', async () => {
    const error = await requireA100Device().then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(FlexqError);
    expect((error as FlexqError).code).toBe('DEVICE_MISSING');
    expect((error as FlexqError).message).toMatch(/--executor a100 .*NVIDIA GPU \(sm_80 or later\).*no CUDA device: .+\).*--executor runtime --mode a100/);
  });

  it.skipIf(hasNvidiaDriver)('npm run gpu-proof stops at once with one line saying what is missing', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'test/bench/gpu-proof.ts'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toEqual(['gpu-proof: no NVIDIA GPU here (nvidia-smi is not runnable); run it on a machine with an NVIDIA GPU of sm_80 or later and its driver']);
  });

  it.skipIf(hasNvidiaDriver)('flexq eval --executor a100 exits 1 with that error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flexq-a100-cli-'));
    try {
      const images = ['--preprocess', 'unit', '--limit', '16'];
      const fq = join(dir, 'mnist.fq');
      expect((await flexq('quantize', model('mnist-8/model.onnx'), '--calib', data('mnist/test-images.npy'), ...images, '-o', fq)).code).toBe(0);
      const r = await flexq('eval', fq, '--data', data('mnist/test-images.npy'), '--labels', data('mnist/test-labels.npy'), ...images, '--executor', 'a100');
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/DEVICE_MISSING.*no CUDA device: no usable NVIDIA driver or GPU.*--executor runtime --mode a100/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const MODELS = [
    { name: 'ResNet-8', file: 'resnet8-cifar10/float.onnx', calib: data('cifar10/calib-1024'), test: data('cifar10/test-200'), preprocess: 'none' as const },
    { name: 'DS-CNN', file: 'dscnn-kws/float.onnx', calib: data('kws/features.npy'), test: data('kws/features.npy'), offset: 500, preprocess: 'none' as const },
    { name: 'MNIST-8 (Gemm with transB 0)', file: 'mnist-8/model.onnx', calib: data('mnist/test-images.npy'), test: data('mnist/test-images.npy'), offset: 5000, preprocess: 'unit' as const },
  ];
  it.each(MODELS)('walks $name with the runtime a100 bytes on every activation (jobs on the host reference)', async (m) => {
    const q = await quantize(model(m.file), {
      calib: m.calib, limit: 32, method: 'rtn', wbits: 8, abits: 8, seed: 0, observer: 'minmax', preprocess: m.preprocess, batch: 32,
    });
    const sample = q.graph.values.get(q.graph.inputs[0])!.shape.slice(1) as number[];
    const set = await openDataset({ path: m.test, preprocess: m.preprocess, offset: m.offset, limit: 6, sampleShape: sample });
    let input: { shape: number[]; data: Float32Array } = { shape: [0], data: new Float32Array(0) };
    for await (const b of set.batches(6)) input = { shape: [b.count, ...sample], data: b.data };
    const activations = q.graph.nodes.map((n) => n.outputs[0]);
    const walked = await createA100Executor(q, build, 'host').run(input, activations);
    const rt = createIntegerRuntime(q, 'a100');
    const emulated = rt.run({ shape: input.shape, data: rt.quantizeInput(input.data) }, activations);
    const layers = q.graph.nodes.filter((n) => ['Conv', 'Gemm', 'MatMul'].includes(n.op));
    expect(layers.length).toBeGreaterThan(2);
    for (const name of activations) expect({ name, values: Array.from(walked.get(name)!.data) }).toEqual({ name, values: Array.from(dequantize(emulated.get(name)!)) });
  });

  it('walks a MatMul by a constant (no model uses one) with the runtime a100 bytes', async () => {
    const graph = graphOf({ name: 'x', shape: ['N', 4, 24] }, [floats('w', [24, 7], 5)], [node('MatMul', ['x', 'w'], 'y')], ['y']);
    const float = await createFloatExecutor(graph);
    const calibration = { size: 32, async *batches() { yield { data: randomFloats(32 * 96, 9).map((v) => 3 * v), count: 32 }; } };
    const activations = await calibrateActivations(graph, float, calibration, OBSERVERS.minmax, 8, 32);
    float.dispose();
    const q = quantizeRtn(graph, activations, { wbits: 8, edgeBits: 8 }, { flexqVersion: 'test', method: 'rtn', wbits: 8, abits: 8, seed: 0, model: 'fixture', calibrationSamples: 32 });
    const input = { shape: [3, 4, 24], data: randomFloats(3 * 96, 17).map((v) => 3 * v) };
    const walked = (await createA100Executor(q, build, 'host').run(input)).get('y')!.data;
    const rt = createIntegerRuntime(q, 'a100');
    const emulated = dequantize(rt.run({ shape: input.shape, data: rt.quantizeInput(input.data) }).get('y')!);
    expect(Array.from(walked)).toEqual(Array.from(emulated));
    expect(new Set(emulated).size).toBeGreaterThan(20);
  });
});
