// ort-cpu on every Conv / Gemm layer shape of the shared ResNet-8 and DS-CNN (batch 2), against the tfjs-wasm
// backend (whose gradients conv-gemm.test.ts checks against autodiff), within computed rounding bounds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TensorBackend } from '../../src/backend/backend.js';
import { createOrtBackend } from '../../src/backend/ort.js';
import { createTfjsBackend } from '../../src/backend/tfjs-reference.js';
import { loadModel } from '../../src/load-model.js';
import { hasShared, model } from '../helpers/shared.js';
import { boundRatios } from './compare.js';
import { layerCalls } from './model-layers.js';

const MODELS = ['resnet8-cifar10/float.onnx', 'dscnn-kws/float.onnx'];

let ortCpu: TensorBackend;
let tfjsWasm: TensorBackend;
beforeAll(async () => {
  [ortCpu, tfjsWasm] = await Promise.all([createOrtBackend('cpu'), createTfjsBackend('wasm')]);
});
afterAll(async () => {
  await ortCpu.dispose();
});

describe.skipIf(!hasShared).each(MODELS)('%s layers: ort-cpu = tfjs-wasm (error / rounding bound ≤ 1)', (file) => {
  const layers = hasShared ? layerCalls(loadModel(model(file)).graph, 2) : [];
  it('has its Conv and Gemm layers', () => {
    expect(layers.filter((l) => l.kind === 'conv').length).toBeGreaterThanOrEqual(9);
    expect(layers.filter((l) => l.kind === 'gemm').length).toBe(1);
  });
  it.each(layers)('$name $x ⊛ $w', async (l) => {
    const r = await boundRatios(ortCpu, tfjsWasm, l.kind === 'conv' ? l : { name: l.name, x: l.x, w: l.w });
    expect(Math.max(r.y, r.dx, r.dw, r.db)).toBeLessThanOrEqual(1);
  });
});
