// The same reconstruction on the WebGPU backend and on the CPU backend, from the same seed: learned rounding is
// chaotic in float rounding noise (Adam turns a last-bit difference in a gradient near zero into a full step), so
// the bytes differ, but the accuracy on held-out images must agree within sampling noise. Without a GPU this runs
// on whatever adapter Dawn finds (in CI Mesa's lavapipe) and skips when there is none.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { probeWebGpuAdapter } from '../../src/backend/webgpu-adapter.js';
import { flexq, flexqWithEnv } from '../helpers/cli.js';
import { data, model } from '../helpers/shared.js';

const adapter = (await probeWebGpuAdapter()).adapter;
const RESNET8 = model('resnet8-cifar10/float.onnx');
const TEST = data('cifar10/test-200');
const quantizeArgs = (out: string, ...more: string[]) =>
  ['quantize', RESNET8, '--calib', data('cifar10/calib-1024'), '--samples', '128', '--wbits', '3', '--abits', '32', '--seed', '7', '-o', out, ...more];
const quantize = (out: string, ...more: string[]) => flexq(...quantizeArgs(out, ...more));
const FLEXROUND = ['--method', 'flexround', '--iters', '30'];

async function top1(fq: string): Promise<number> {
  const r = await flexq('eval', fq, '--data', TEST, '--json');
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout).top1;
}

describe('--backend webgpu on a host without a Vulkan driver', () => {
  it('exits 1 naming what is missing, writes nothing, and auto falls back to the CPU', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flexq-no-gpu-'));
    const noDriver = { VK_ICD_FILENAMES: join(dir, 'no-such-driver.json'), VK_DRIVER_FILES: join(dir, 'no-such-driver.json') };
    const out = join(dir, 'w.fq');
    const r = await flexqWithEnv(noDriver, ...quantizeArgs(out, ...FLEXROUND, '--backend', 'webgpu'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--backend webgpu: no WebGPU adapter was found/);
    expect(r.stderr).toMatch(/name driver manifests that do not exist: .*no-such-driver\.json/);
    expect(r.stderr).not.toMatch(/calibrate/);
    expect(r.stderr).toMatch(/--backend auto or ort-cpu/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(out)).toBe(false);
    const auto = await flexqWithEnv(noDriver, ...quantizeArgs(out, '--method', 'flexround', '--iters', '2', '--samples', '32'));
    expect(auto.code, auto.stderr).toBe(0);
    expect(auto.stderr).toMatch(/backend ort-cpu/);
  }, 120_000);

  it("flexq backends lists each backend with why it is unavailable, and what 'auto' picks", async () => {
    const r = await flexqWithEnv({ VK_ICD_FILENAMES: '/nonexistent/none.json', VK_DRIVER_FILES: '/nonexistent/none.json' }, 'backends', '--json');
    expect(r.code, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout) as { kind: string; available: boolean; name?: string; reason?: string }[];
    const row = (kind: string) => rows.find((x) => x.kind === kind)!;
    expect(rows.map((x) => x.kind)).toEqual(['ort-cpu', 'webgpu', 'tfjs-webgpu', 'wasm', 'cpu', 'tensorflow', 'auto']);
    expect(row('ort-cpu')).toMatchObject({ available: true, name: 'ort-cpu' });
    expect(row('webgpu').available).toBe(false);
    expect(row('webgpu').reason).toMatch(/--backend webgpu: no WebGPU adapter was found/);
    expect(row('tfjs-webgpu').reason).toMatch(/--backend tfjs-webgpu: no WebGPU adapter was found/);
    expect(row('auto')).toMatchObject({ available: true, name: 'ort-cpu' });
    const text = await flexqWithEnv({ VK_ICD_FILENAMES: '/nonexistent/none.json', VK_DRIVER_FILES: '/nonexistent/none.json' }, 'backends');
    expect(text.stdout).toMatch(/auto +→ ort-cpu \(no WebGPU adapter: see the webgpu row\)/);
  }, 120_000);
});

describe.skipIf(!adapter)(`FlexRound W3 on ResNet-8: --backend webgpu (${adapter?.description}) against ort-cpu`, () => {
  it('gives the same held-out accuracy within noise, both far above rounding to nearest', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flexq-backends-'));
    const [gpu, cpu, rtn] = ['gpu.fq', 'cpu.fq', 'rtn.fq'].map((f) => join(dir, f));
    const runs = await Promise.all([quantize(gpu, ...FLEXROUND, '--backend', 'webgpu'), quantize(cpu, ...FLEXROUND, '--backend', 'ort-cpu'), quantize(rtn)]);
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    expect(runs[0].stderr).toMatch(/backend ort-webgpu on /);
    const [g, c, base] = [await top1(gpu), await top1(cpu), await top1(rtn)];
    // 200 images: one run's standard error is ≈ 2.7 points at 83 %; two independent runs differ by ≤ 2σ·√2 ≈ 7.5.
    expect(Math.abs(g - c)).toBeLessThanOrEqual(0.075);
    expect(Math.min(g, c)).toBeGreaterThan(base + 0.1);
  }, 600_000);
});
