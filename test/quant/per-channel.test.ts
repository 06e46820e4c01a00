// quantize --per-channel (RTN): one weight scale per output channel, run bit-exactly by the integer runtime and by
// onnxruntime-node on the QDQ export, and the mask quality it buys on MediaPipe Selfie Segmentation, whose
// depthwise channels' weight ranges differ by up to 60×.
import { describe, expect, it } from 'vitest';
import { quantize, validate } from '../../src/index.js';
import type { QuantizeOptions } from '../../src/api/quantize.js';
import type { QuantizedGraph } from '../../src/ir/quantized-graph.js';
import { loadModel } from '../../src/load-model.js';
import { rtnWeights } from '../../src/quant/rtn.js';
import { equalizeChannels } from '../../src/quant/equalize-channels.js';
import { createFloatExecutor } from '../../src/exec/float-executor.js';
import { globalizeAveragePool } from '../../src/passes/globalize-average-pool.js';
import { openData, readAllSamples } from '../../src/api/data.js';
import { AgreementAccumulator } from '../../src/metrics.js';
import { data, hasShared, model } from '../helpers/shared.js';

const RESNET8 = model('resnet8-cifar10/float.onnx');
const SELFIE = model('mediapipe-selfie-segmentation/model.tflite');
const cifarCalib: QuantizeOptions = { calib: data('cifar10/calib-1024'), limit: 64, method: 'rtn', wbits: 8, abits: 8 };

describe.skipIf(!hasShared)('per-channel RTN weights', () => {
  it('ResNet-8: every Conv and the Gemm get one scale per output channel, biases at s_in·s_w[m]; runtime, ort-node (QDQ) and LiteRT (TFLite) agree byte for byte', async () => {
    const q = await quantize(RESNET8, { ...cifarCalib, weightScales: 'per-channel' });
    const layers = q.graph.nodes.filter((n) => n.op === 'Conv' || n.op === 'Gemm');
    expect(layers.length).toBe(10);
    for (const n of layers) {
      const w = q.weights.get(n.inputs[1])!;
      expect(w.channelScales!.length).toBe(w.shape[0]);
      expect(w.scale).toBe(Math.max(...w.channelScales!));
      // The channels do not all share the largest scale: the grids really are per channel.
      expect(new Set(w.channelScales).size).toBeGreaterThan(1);
      const b = q.biases.get(n.inputs[2])!;
      const sIn = q.activations.get(n.inputs[0])!.scale;
      expect([...b.channelScales!]).toEqual([...w.channelScales!].map((s) => Math.fround(sIn * s)));
    }
    // Two bit-exact families: the runtime's onnx mode with ort-node (QDQ export) and LiteRT's XNNPACK delegate
    // (TFLite export), and its tflite-builtin mode with LiteRT's built-in kernels.
    const report = await validate(RESNET8, q, { data: data('cifar10/test-200'), limit: 20, modes: ['onnx', 'tflite-builtin'], executors: ['runtime', 'ort-node', 'litert', 'litert-builtin'] });
    const names = report.executors.map((e) => e.executor);
    const named = (part: string) => names.find((n) => n.includes(part))!;
    const xnnpackFamily = [named('runtime (onnx)'), named('ort-node'), named('XNNPACK')];
    for (const a of xnnpackFamily) for (const b of xnnpackFamily) expect(report.mismatches[a][b]).toBe(0);
    expect(report.mismatches[named('runtime (tflite-builtin)')][named('built-in kernels')]).toBe(0);
  }, 60_000);

  it('FlexRound learns per-channel grids: new integers and channel scales, still bit-exact in runtime, ort-node (QDQ) and LiteRT (TFLite)', async () => {
    // A small learning rate: ten steps must not carry the rounding far (the default for short budgets is 1/iterations).
    const q = await quantize(RESNET8, { ...cifarCalib, limit: 32, method: 'flexround', iters: 10, lr: 1e-3, weightScales: 'per-channel' });
    // Where the learning started: RTN per channel on the float weights.
    const rtn = rtnWeights(loadModel(RESNET8).graph, { wbits: 8, edgeBits: 8, weightScales: 'per-channel' });
    let moved = 0;
    let rescaled = 0;
    for (const [name, w] of q.weights) {
      const start = rtn.get(name)!;
      expect(w.channelScales!.length).toBe(w.shape[0]);
      moved += w.values.filter((v, i) => v !== start.values[i]).length;
      rescaled += w.channelScales!.filter((s, m) => s !== start.channelScales![m]).length;
    }
    expect(moved).toBeGreaterThan(0);
    expect(rescaled).toBeGreaterThan(0);
    const report = await validate(RESNET8, q, { data: data('cifar10/test-200'), limit: 20, modes: ['onnx', 'tflite-builtin'], executors: ['runtime', 'ort-node', 'litert', 'litert-builtin'] });
    const names = report.executors.map((e) => e.executor);
    const named = (part: string) => names.find((n) => n.includes(part))!;
    const xnnpackFamily = [named('runtime (onnx)'), named('ort-node'), named('XNNPACK')];
    for (const a of xnnpackFamily) for (const b of xnnpackFamily) expect(report.mismatches[a][b]).toBe(0);
    expect(report.mismatches[named('runtime (tflite-builtin)')][named('built-in kernels')]).toBe(0);
    // W8A8 keeps the float model's accuracy on these 20 images within two images.
    expect(report.executors[0].top1!).toBeGreaterThanOrEqual(report.floatTop1! - 0.1);
  }, 90_000);

  it('AdaRound and AdaQuant refuse per-channel weights by name', async () => {
    for (const method of ['adaround', 'adaquant'] as const)
      await expect(quantize(RESNET8, { ...cifarCalib, method, weightScales: 'per-channel' })).rejects.toThrow(/per-channel weights support methods rtn and flexround, not ada/);
  });

  it('--equalize refuses per-tensor weights by name: one grid per tensor would round the rescaled rows differently', async () => {
    await expect(quantize(RESNET8, { ...cifarCalib, equalize: true })).rejects.toThrow(/equalize needs per-channel weights .*add --per-channel/);
  });

  it('--bias-correction refuses a learned rounding by name: reconstruction already answers for the output shift', async () => {
    await expect(quantize(RESNET8, { ...cifarCalib, method: 'flexround', biasCorrection: true })).rejects.toThrow(/bias correction corrects round-to-nearest; flexround .*use --method rtn/);
  });

  // Weights only (A32) isolates the weight grids: per tensor, the depthwise layers' small channels round to zero.
  // W8A8 keeps less (about a hundred activation grids each add their rounding), but per-channel still leads.
  it('Selfie Segmentation: per-channel weights keep the float mask on held-out photos, per-tensor weights do not', async () => {
    const photos = { preprocess: 'mediapipe-selfie' as const };
    const maskIou = async (weightScales: 'per-tensor' | 'per-channel', abits: 8 | 32) => {
      const q: QuantizedGraph = await quantize(SELFIE, { ...photos, calib: data('imagenet-sample'), limit: 16, method: 'rtn', abits, weightScales, observer: 'percentile' });
      const executors = abits === 32 ? ['float'] : ['runtime'];
      const report = await validate(SELFIE, q, { ...photos, data: data('imagenet-sample'), offset: 500, limit: 4, modes: ['tflite-double'], executors, task: 'segmentation' });
      return report.executors[0].segmentation!;
    };
    const weightsOnly = { perTensor: (await maskIou('per-tensor', 32)).maskIou, perChannel: (await maskIou('per-channel', 32)).maskIou };
    expect(weightsOnly.perChannel).toBeGreaterThan(0.97);
    expect(weightsOnly.perTensor).toBeLessThan(0.5);
    const w8a8 = { perTensor: await maskIou('per-tensor', 8), perChannel: await maskIou('per-channel', 8) };
    expect(w8a8.perChannel.maskIou - w8a8.perTensor.maskIou).toBeGreaterThan(0.03);
    // Floors under what these 4 photos give (0.714 mean, 0.953 pooled): the logits into the final Sigmoid and the
    // HardSwish inputs get only the range those activations tell apart, the squeeze-excite means their own grids, and
    // --observer percentile, its ranges from a uniform sample of every value, cuts the rare outliers (minmax: 0.674 / 0.903).
    expect(w8a8.perChannel.maskIou).toBeGreaterThan(0.66);
    expect(w8a8.perChannel.pooledMaskIou).toBeGreaterThan(0.92);
  }, 150_000);

  // Relu conv → depthwise → residual-add chains carry a per-channel factor (equalize-channels.ts), so equalizing leaves
  // the float function as it was; the corrected biases and rescaled weights are plain numbers every target runs.
  it('Selfie Segmentation --equalize --bias-correction: the same float function, bit-exact in LiteRT (XNNPACK), a W8A8 mask floor', async () => {
    const photos = { preprocess: 'mediapipe-selfie' as const };
    const graph = globalizeAveragePool(loadModel(SELFIE).graph);
    const sample = graph.values.get(graph.inputs[0])!.shape.slice(1) as number[];
    const calib = await openData(data('imagenet-sample'), { ...photos, limit: 2 }, sample);
    const executor = await createFloatExecutor(graph);
    const equalized = await equalizeChannels(graph, executor, calib, 2);
    const input = { [graph.inputs[0]]: { shape: [2, ...sample], data: await readAllSamples(calib) } };
    const before = executor.run(input).get(graph.outputs[0])!.data;
    executor.dispose();
    const after = await createFloatExecutor(equalized.graph);
    expect(equalized.regions).toBe(19);
    const agreement = new AgreementAccumulator();
    agreement.add(before, after.run(input).get(graph.outputs[0])!.data);
    expect(agreement.stats().sqnrDb).toBeGreaterThan(80);
    after.dispose();

    const q = await quantize(SELFIE, { ...photos, calib: data('imagenet-sample'), limit: 8, method: 'rtn', abits: 8, weightScales: 'per-channel', observer: 'percentile', equalize: true, biasCorrection: true });
    const report = await validate(SELFIE, q, { ...photos, data: data('imagenet-sample'), offset: 500, limit: 4, modes: ['tflite-xnnpack'], executors: ['runtime', 'litert'], task: 'segmentation' });
    const [runtime, litert] = report.executors.map((e) => e.executor);
    expect(report.mismatches[runtime][litert]).toBe(0);
    const mask = report.executors[0].segmentation!;
    // Floors under what these 4 photos give from 8 calibration photos (0.706 mean, 0.909 pooled); 4 photos cannot rank
    // settings whose 200-photo figures differ by a few points (test/bench/selfie.bench.ts does that).
    expect(mask.maskIou).toBeGreaterThan(0.65);
    expect(mask.pooledMaskIou).toBeGreaterThan(0.88);
  }, 60_000);
});
