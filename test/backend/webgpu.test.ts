// The WebGPU backend (onnxruntime's WebGPU execution provider on Dawn). Without a GPU these run on whatever adapter
// Dawn finds — in CI Mesa's lavapipe (software Vulkan, installed by .ci/run) — which checks the graphs and the
// numbers, not the speed; with no adapter at all they skip and say why.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Activation, Tensor, TensorBackend } from '../../src/backend/backend.js';
import * as E from '../../src/backend/elementwise.js';
import { createOrtBackend } from '../../src/backend/ort.js';
import { openBackend } from '../../src/backend/select.js';
import { createTfjsBackend } from '../../src/backend/tfjs-reference.js';
import { inspectVulkanHost, noAdapterMessage, probeWebGpuAdapter } from '../../src/backend/webgpu-adapter.js';
import { FlexqError } from '../../src/errors.js';
import { boundRatios, conv, OP_CASES, randomTensor } from './compare.js';

/** A new graph's shaders compile on first use: seconds on a software adapter. */
const SHADER_COMPILE_MS = 60_000;

const probe = await probeWebGpuAdapter();
const adapter = probe.adapter;
if (!adapter) console.warn(`WebGPU tests skipped: ${noAdapterMessage(probe, inspectVulkanHost())}`);

describe('the adapter probe', () => {
  it.runIf(adapter)('describes the adapter and tells a software rasterizer from a GPU', () => {
    expect(adapter!.description.length).toBeGreaterThan(0);
    expect(adapter!.software).toBe(/llvmpipe|swiftshader/i.test(adapter!.description) || adapter!.architecture === 'software');
  });

  it('names each missing piece of the Vulkan stack and what to install', () => {
    const none = { rejections: ['Warning: Vulkan shaderUniform*ArrayDynamicIndexing required.'] };
    const bare = noAdapterMessage(none, { drivers: [], nvidiaKernelDriver: false });
    expect(bare).toMatch(/libvulkan\.so\.1 is missing .*apt-get install libvulkan1/);
    expect(bare).toMatch(/no Vulkan driver \(ICD manifest\)/);
    expect(bare).toMatch(/no NVIDIA driver is loaded/);
    expect(bare).toMatch(/Dawn said: Warning: Vulkan shaderUniform/);
    expect(bare).toMatch(/--backend auto or ort-cpu/);
    const noIcd = noAdapterMessage(none, { loader: '/usr/lib/x86_64-linux-gnu/libvulkan.so.1', drivers: ['/usr/share/vulkan/icd.d/lvp_icd.x86_64.json'], nvidiaKernelDriver: true });
    expect(noIcd).toMatch(/loader is present/);
    expect(noIcd).toMatch(/Vulkan drivers found: lvp_icd\.x86_64\.json/);
    expect(noIcd).toMatch(/NVIDIA kernel driver is loaded but its Vulkan driver \(nvidia_icd\.json/);
    const missingPackage = noAdapterMessage({ rejections: [], unavailable: "the optional package 'webgpu' (Dawn for Node) is not installed" }, undefined);
    expect(missingPackage).toMatch(/'webgpu' \(Dawn for Node\) is not installed/);
  });

  it('reads the loader and the drivers from where the Vulkan loader looks', () => {
    const host = inspectVulkanHost({ VK_ICD_FILENAMES: '/nowhere/a_icd.json:/nowhere/nvidia_icd.json', LD_LIBRARY_PATH: '/nowhere' });
    expect(host.drivers).toEqual(['/nowhere/a_icd.json', '/nowhere/nvidia_icd.json']);
  });
});

describe('--backend selection', () => {
  it('auto takes WebGPU only on a hardware GPU', async () => {
    const auto = await openBackend('auto');
    expect(auto.name).toBe(adapter && !adapter.software ? 'ort-webgpu' : 'ort-cpu');
    await auto.dispose();
  });

  it.runIf(!adapter)('webgpu without an adapter is refused with what the host lacks', async () => {
    const err = await openBackend('webgpu').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FlexqError);
    expect((err as FlexqError).code).toBe('BACKEND_UNAVAILABLE');
    expect((err as FlexqError).message).toMatch(/no WebGPU adapter was found.*--backend auto or ort-cpu/);
  });
});

describe.skipIf(!adapter)(`ort-webgpu on ${adapter?.description ?? 'no adapter'}`, () => {
  let gpu: TensorBackend;
  let reference: TensorBackend;
  let cpu: TensorBackend;
  beforeAll(async () => {
    [gpu, reference, cpu] = await Promise.all([openBackend('webgpu'), createTfjsBackend('cpu'), createOrtBackend('cpu')]);
  }, SHADER_COMPILE_MS);
  afterAll(async () => {
    await gpu?.dispose();
    await cpu?.dispose();
  });

  it('is the WebGPU execution provider on the probed adapter', () => {
    expect(gpu.name).toBe('ort-webgpu');
    expect(gpu.device).toContain(adapter!.description);
  });

  it.each(OP_CASES)('$name: y, dx, dw, db against tfjs autodiff (error / rounding bound ≤ 1)', async (c) => {
    const r = await boundRatios(gpu, reference, c);
    expect(Math.max(r.y, r.dx, r.dw, r.db)).toBeLessThanOrEqual(1);
  }, SHADER_COMPILE_MS);

  // The fused forward + activation + loss graph against the same steps taken one by one on the CPU backend.
  const lossCases: { name: string; activation: Activation; x: number[]; w: number[]; conv?: ReturnType<typeof conv> }[] = [
    { name: 'conv 3×3 stride 2, relu', activation: 'relu', x: [4, 8, 9, 9], w: [16, 8, 3, 3], conv: conv(2, [1]) },
    { name: 'depthwise 3×3, relu6', activation: 'relu6', x: [4, 8, 7, 7], w: [8, 1, 3, 3], conv: conv(1, [1], 8) },
    { name: 'gemm 64→10, no activation', activation: 'none', x: [8, 64], w: [10, 64] },
  ];
  it.each(lossCases)('fused loss, $name: loss and ∂L/∂y equal the unfused steps', async (c) => {
    const x = randomTensor(c.x, 11);
    const w = randomTensor(c.w, 12);
    const b = randomTensor([c.w[0]], 13).data;
    const pre = c.conv ? await cpu.conv2d(x, w, b, c.conv) : await cpu.gemm(x, w, b);
    const act = (t: Tensor) => (c.activation === 'relu' ? E.relu(t) : c.activation === 'relu6' ? E.clip(t, 0, 6) : t);
    const target = act(randomTensor(pre.shape, 14));
    const positions = E.positions(pre);
    const fused = c.conv ? await gpu.conv2dLoss!(x, w, b, c.conv, c.activation, target, positions) : await gpu.gemmLoss!(x, w, b, c.activation, target, positions);
    const unfused = E.reconstructionLoss(act(pre), target);
    const dy = c.activation === 'relu' ? E.reluBackward(pre, unfused.dy) : c.activation === 'relu6' ? E.clipBackward(pre, unfused.dy, 0, 6) : unfused.dy;
    expect(fused.loss).toBeCloseTo(unfused.loss, 4);
    let worst = 0;
    for (let i = 0; i < dy.data.length; i++) worst = Math.max(worst, Math.abs(fused.dy.data[i] - dy.data[i]));
    expect(worst).toBeLessThan(1e-5);
  }, SHADER_COMPILE_MS);
});
