// On a GPU (sm_80 or later): the IMMA kernel's every output byte equals the TS runtime's a100 mode, on every conv /
// fully-connected layer of ResNet-8, DS-CNN and MobileNetV2, on GEMMs whose sizes are not tile multiples (and one
// whose int32 accumulators wrap), on grouped / dilated / strided convolutions, and through `--executor a100` on a
// quantized ResNet-8. Without a GPU every test here is skipped, and the reason is printed.
import { execFileSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { dequantize, createIntegerRuntime } from '../../../runtime/executor.js';
import { quantize } from '../../../src/index.js';
import { openDataset } from '../../../calibration/index.js';
import { mulberry32 } from '../../../src/random.js';
import { buildA100, type A100Build } from '../../../targets/a100/build.js';
import { a100Executor } from '../../../targets/a100/executor.js';
import { fullyConnectedJob, type ConvJob } from '../../../targets/a100/job-file.js';
import { queryDevice, runJob } from '../../../targets/a100/runner.js';
import { data, model } from '../../helpers/shared.js';
import { countMismatches, LAYER_MODELS, modelLayers, randomJob, runtimeA100, type LayerShape } from './layers.js';

/** Why the GPU tests cannot run here, or undefined when they can (nvidia-smi first: it costs no nvcc build). */
async function missingGpu(): Promise<string | undefined> {
  try {
    execFileSync('nvidia-smi', ['-L'], { stdio: 'pipe' });
  } catch {
    return 'nvidia-smi is not runnable (no NVIDIA driver or GPU on this machine)';
  }
  const found = await queryDevice(await buildA100());
  return 'missing' in found ? found.missing : undefined;
}

const missing = await missingGpu();
if (missing) console.warn(`test/targets/a100/gpu.test.ts: skipping the GPU tests: ${missing}`);

let build: A100Build;
beforeAll(async () => {
  if (!missing) build = await buildA100();
});

async function expectKernelEqualsRuntime(job: ConvJob): Promise<void> {
  const gpu = await runJob(build, job, 'gpu');
  expect(countMismatches(gpu, runtimeA100(job))).toBe(0);
}

describe.skipIf(missing !== undefined).each(Object.entries(LAYER_MODELS))('a100 kernel = runtime a100 mode on every layer of %s', (name, file) => {
  const layers = modelLayers(file);
  it.each(layers.map((l, i) => [l.name, l, i] as [string, LayerShape, number]))('layer %s', async (_, layer, i) => {
    await expectKernelEqualsRuntime(randomJob(layer, name === 'mobilenetv2' ? 2 : 5, 7000 + i));
  });
});

describe.skipIf(missing !== undefined)('a100 kernel on GEMMs and convolutions off the tile grid', () => {
  const gemm = (rows: number, depth: number, units: number, seed: number, extreme = false): ConvJob => {
    const r = mulberry32(seed);
    const int8 = (n: number, v: () => number) => Int8Array.from({ length: n }, v);
    return fullyConnectedJob(rows, depth, units, {
      inputZeroPoint: extreme ? 0 : -7, weightZeroPoint: 0, output: { zeroPoint: 3, min: -128, max: 127 },
      inputScale: 0.05, weightScale: 0.01, outputScale: Math.fround((0.05 * 0.01 * Math.sqrt(depth) * 5400) / 40),
      bias: Int32Array.from({ length: units }, () => Math.floor(r() * 2001) - 1000),
      weights: int8(units * depth, () => (extreme ? -127 : Math.floor(r() * 255) - 127)),
      input: int8(rows * depth, () => (extreme ? -128 : Math.floor(r() * 256) - 128)),
    });
  };
  it.each([[1, 1, 1], [1, 16, 1], [17, 33, 65], [130, 100, 257], [129, 1000, 513], [300, 4097, 200], [1000, 1000, 1000]])(
    'GEMM rows %i × depth %i × units %i',
    async (rows, depth, units) => expectKernelEqualsRuntime(gemm(rows, depth, units, rows + depth + units)),
  );
  it('wrapping int32 accumulators (depth 140000 of −128 · −127)', async () => expectKernelEqualsRuntime(gemm(3, 140000, 5, 1, true)));

  const convs: LayerShape[] = [
    { name: 'grouped', kind: 'conv', input: [8, 13, 11], output: [12, 6, 5], window: { kernel: [3, 3], strides: [2, 2], pads: [1, 0, 0, 1], dilations: [1, 1] }, groups: 4 },
    { name: 'dilated', kind: 'conv', input: [16, 20, 20], output: [40, 18, 18], window: { kernel: [3, 3], strides: [1, 1], pads: [2, 2, 2, 2], dilations: [3, 3] }, groups: 2 },
    { name: 'stride-3', kind: 'conv', input: [5, 31, 29], output: [33, 10, 10], window: { kernel: [5, 4], strides: [3, 3], pads: [2, 1, 1, 2], dilations: [1, 1] }, groups: 1 },
    { name: 'depthwise×2', kind: 'conv', input: [6, 9, 9], output: [12, 9, 9], window: { kernel: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1] }, groups: 6 },
  ];
  it.each(convs.map((c) => [c.name, c] as [string, LayerShape]))('convolution %s', async (_, c) => expectKernelEqualsRuntime(randomJob(c, 3, 99)));
});

describe.skipIf(missing !== undefined)('--executor a100 on a quantized ResNet-8', () => {
  it('gives the bytes of --executor runtime --mode a100 on CIFAR-10 test images', async () => {
    const q = await quantize(model('resnet8-cifar10/float.onnx'), {
      calib: data('cifar10/calib-1024'), limit: 64, method: 'rtn', wbits: 8, abits: 8, seed: 0, observer: 'minmax', preprocess: 'none', batch: 32,
    });
    const sample = q.graph.values.get(q.graph.inputs[0])!.shape.slice(1) as number[];
    const set = await openDataset({ path: data('cifar10/test-200'), preprocess: 'none', limit: 16, sampleShape: sample });
    let input: { shape: number[]; data: Float32Array } = { shape: [0], data: new Float32Array(0) };
    for await (const b of set.batches(16)) input = { shape: [b.count, ...sample], data: b.data };
    const executor = await a100Executor(q, { mode: 'a100' });
    const rt = createIntegerRuntime(q, 'a100');
    const output = q.graph.outputs[0];
    const gpu = (await executor.run(input)).get(output)!.data;
    const emulated = rt.run({ shape: input.shape, data: rt.quantizeInput(input.data) }).get(output)!;
    expect(Array.from(gpu)).toEqual(Array.from(dequantize(emulated)));
  });
});
