// The WebGPU backends: onnxruntime's WebGPU execution provider and TensorFlow.js's WebGPU engine, both on Dawn. Without a GPU these run on whatever adapter
// Dawn finds — in CI Mesa's lavapipe (software Vulkan, installed by .ci/run) — which checks the graphs and the
// numbers, not the speed; with no adapter at all they skip and say why.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import type { TensorBackend } from '../../src/backend/backend.js';
import { encodeOnnxGraph } from '../../src/backend/onnx-graph.js';
import { createOrtBackend, ORT_SESSION_OPTIONS } from '../../src/backend/ort.js';
import { openBackend } from '../../src/backend/select.js';
import { createTfjsBackend } from '../../src/backend/tfjs-reference.js';
import { inspectVulkanHost, noAdapterMessage, probeWebGpuAdapter } from '../../src/backend/webgpu-adapter.js';
import { FlexqError } from '../../src/errors.js';
import { boundRatios, everyGraphKind, layerStepDeviation, LOSS_CASES, OP_CASES } from './compare.js';

/** A new graph's shaders compile on first use: seconds on a software adapter. */
const SHADER_COMPILE_MS = 60_000;

const probe = await probeWebGpuAdapter();
const adapter = probe.adapter;
if (!adapter) console.warn(`WebGPU tests skipped: ${noAdapterMessage('webgpu', probe, inspectVulkanHost())}`);

describe('the adapter probe', () => {
  it.runIf(adapter)('describes the adapter and tells a software rasterizer from a GPU', () => {
    expect(adapter!.description.length).toBeGreaterThan(0);
    expect(adapter!.software).toBe(/llvmpipe|swiftshader/i.test(adapter!.description) || adapter!.architecture === 'software');
  });

  it('names each missing piece of the Vulkan stack and what to install', () => {
    const none = { rejections: ['Warning: Vulkan shaderUniform*ArrayDynamicIndexing required.'] };
    const bare = noAdapterMessage('webgpu', none, { drivers: [], nvidiaKernelDriver: false });
    expect(bare).toMatch(/libvulkan\.so\.1 is missing .*apt-get install libvulkan1/);
    expect(bare).toMatch(/no Vulkan driver \(ICD manifest\)/);
    expect(bare).toMatch(/no NVIDIA driver is loaded/);
    expect(bare).toMatch(/Dawn said: Warning: Vulkan shaderUniform/);
    expect(bare).toMatch(/--backend auto or ort-cpu/);
    const noIcd = noAdapterMessage('webgpu', none, { loader: '/usr/lib/x86_64-linux-gnu/libvulkan.so.1', drivers: ['/usr/share/vulkan/icd.d/lvp_icd.x86_64.json'], nvidiaKernelDriver: true });
    expect(noIcd).toMatch(/loader is present/);
    expect(noIcd).toMatch(/Vulkan drivers found: lvp_icd\.x86_64\.json/);
    expect(noIcd).toMatch(/NVIDIA kernel driver is loaded but its Vulkan driver \(nvidia_icd\.json/);
    const missingPackage = noAdapterMessage('tfjs-webgpu', { rejections: [], unavailable: "the optional package 'webgpu' (Dawn for Node) is not installed" }, undefined);
    expect(missingPackage).toMatch(/'webgpu' \(Dawn for Node\) is not installed/);
  });

  it('reads the drivers the Vulkan loader is told to use, and says which do not exist', () => {
    const host = inspectVulkanHost({ VK_ICD_FILENAMES: '/nowhere/a_icd.json:/nowhere/nvidia_icd.json', LD_LIBRARY_PATH: '/nowhere' });
    expect(host.drivers).toEqual([]);
    expect(host.missing).toEqual(['/nowhere/a_icd.json', '/nowhere/nvidia_icd.json']);
    expect(noAdapterMessage('webgpu', { rejections: [] }, host)).toMatch(/name driver manifests that do not exist: \/nowhere\/a_icd\.json, \/nowhere\/nvidia_icd\.json/);
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

  it.each(LOSS_CASES)('one-call layer step, $name: loss and gradients equal the steps one by one on ort-cpu', async (c) => {
    const d = await layerStepDeviation(gpu, cpu, c);
    expect(Math.max(d.loss, d.dw, d.dx)).toBeLessThan(1e-5);
  }, SHADER_COMPILE_MS);

  it('runs every graph kind wholly on the GPU (no node falls back to the CPU)', async () => {
    const strict = { ...ORT_SESSION_OPTIONS.webgpu, extra: { session: { disable_cpu_ep_fallback: '1' } } };
    for (const spec of everyGraphKind()) await (await ort.InferenceSession.create(encodeOnnxGraph(spec), strict)).release();
  }, SHADER_COMPILE_MS);
});

describe.skipIf(!adapter)(`tfjs-webgpu (TensorFlow.js's WebGPU engine) on ${adapter?.description ?? 'no adapter'}`, () => {
  let gpu: TensorBackend;
  let reference: TensorBackend;
  beforeAll(async () => {
    [gpu, reference] = await Promise.all([openBackend('tfjs-webgpu'), createTfjsBackend('cpu')]);
  }, SHADER_COMPILE_MS);

  it.each(OP_CASES)('$name: y, dx, dw, db against tfjs-cpu autodiff (error / rounding bound ≤ 1)', async (c) => {
    const r = await boundRatios(gpu, reference, c);
    expect(Math.max(r.y, r.dx, r.dw, r.db)).toBeLessThanOrEqual(1);
  }, SHADER_COMPILE_MS);
});
