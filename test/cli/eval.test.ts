import { describe, expect, it } from 'vitest';
import { evaluate } from '../../src/index.js';
import { flexq } from '../helpers/cli.js';
import { data, model } from '../helpers/shared.js';

const base = { preprocess: 'none', batch: 32 } as const;

/** The float accuracies measured in ../shared/README.md, reproduced within 0.5 points. */
describe('flexq eval reproduces the shared float accuracies', () => {
  it('ResNet-8 on cifar10/test-200: 85.5 %', async () => {
    const r = await evaluate(model('resnet8-cifar10/float.onnx'), { ...base, data: data('cifar10/test-200') });
    expect(r.count).toBe(200);
    expect(Math.abs(100 * r.top1 - 85.5)).toBeLessThanOrEqual(0.5);
  });

  it('DS-CNN on kws: 90.1 %', async () => {
    const r = await evaluate(model('dscnn-kws/float.onnx'), { ...base, data: data('kws/features.npy'), labels: data('kws/labels.npy') });
    expect(r.count).toBe(1000);
    expect(Math.abs(100 * r.top1 - 90.1)).toBeLessThanOrEqual(0.5);
  });

  it('MNIST (opset 8) on the first 2000 test digits: ≥ 98 %', async () => {
    const r = await evaluate(model('mnist-8/model.onnx'), { ...base, preprocess: 'unit', data: data('mnist/test-images.npy'), labels: data('mnist/test-labels.npy'), limit: 2000 });
    expect(r.count).toBe(2000);
    expect(100 * r.top1).toBeGreaterThanOrEqual(98);
  });

  it('MobileNetV2 on imagenet-sample: 82.7 % (libjpeg-family decoding, as the shared README measured)', async () => {
    const r = await evaluate(model('mobilenetv2-imagenet/float-from-int8.onnx'), { ...base, preprocess: 'imagenet', data: data('imagenet-sample') });
    expect(r.count).toBe(1000);
    expect(Math.abs(100 * r.top1 - 82.7)).toBeLessThanOrEqual(0.5);
  });

  it('the float TFLite twins give the same accuracies (ResNet-8 85.5 %, DS-CNN 90.1 %)', async () => {
    const resnet = await evaluate(model('resnet8-cifar10/float.tflite'), { ...base, data: data('cifar10/test-200') });
    expect(Math.abs(100 * resnet.top1 - 85.5)).toBeLessThanOrEqual(0.5);
    const dscnn = await evaluate(model('dscnn-kws/float.tflite'), { ...base, data: data('kws/features.npy'), labels: data('kws/labels.npy') });
    expect(Math.abs(100 * dscnn.top1 - 90.1)).toBeLessThanOrEqual(0.5);
  });

  it('the CLI prints the same as JSON', async () => {
    const r = await flexq('eval', model('resnet8-cifar10/float.onnx'), '--data', data('cifar10/test-200'), '--limit', '50', '--json');
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.count).toBe(50);
    expect(report.top1).toBeGreaterThan(0.7);
    expect(r.stderr).toContain('eval: 50/50');
  });
});
