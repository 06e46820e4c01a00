// The `flexq serve` page in real headless Chromium: it loads the ResNet-8 QDQ model with onnxruntime-web, classifies
// CIFAR-10 test images picked through its file input, and its int8 model's outputs equal onnxruntime-node's on the
// same images bit for bit (its input tensor equals flexq's own data loading, bit for bit, too). The float model also
// runs on WebGPU (Chromium's SwiftShader adapter, so no GPU is needed) and agrees with onnxruntime-node.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDataset } from '../../calibration/index.js';
import { prepareServeDir } from '../../src/cli/commands/serve.js';
import { quantize } from '../../src/index.js';
import { exportOnnxQdq } from '../../src/export/onnx-qdq.js';
import type { QuantizedGraph } from '../../src/ir/quantized-graph.js';
import { createOrtExecutor } from '../../targets/web/ort-executor.js';
import { FLOAT_MODEL_FILE, QDQ_MODEL_FILE } from '../../targets/web/web-config.js';
import { openServedPage, type ServedPage } from '../helpers/chromium.js';
import { data, model, runOrt } from '../helpers/shared.js';
import { lacksTools } from '../helpers/tools.js';

// SwiftShader gives headless Chromium a WebGPU adapter on any machine.
const WEBGPU_ARGS = ['--enable-unsafe-webgpu', '--enable-unsafe-swiftshader'];
const TEST_200 = data('cifar10/test-200');
/** One test image from each of these classes. */
const CLASSES = ['airplane', 'cat', 'frog', 'ship', 'truck'];

interface PageResult { name: string; input: number[]; qdq: number[]; float: number[] | null; floatProvider: string | null; qdqMs: number; floatMs: number | null; top5: number[] }

describe.skipIf(lacksTools('chromium'))('flexq serve page in headless Chromium (ResNet-8)', () => {
  let work: string;
  let served: ServedPage;
  let page: Page;
  let images: string[];
  let pageErrors: string[];
  let q: QuantizedGraph;
  /** onnxruntime-node's float outputs for the last image. */
  let lastFloat: Float32Array;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'flexq-web-'));
    const dir = join(work, 'serve');
    mkdirSync(dir);
    q = await quantize(model('resnet8-cifar10/float.onnx'), {
      calib: data('cifar10/calib-1024'), limit: 256, method: 'rtn', wbits: 8, abits: 8, seed: 0, observer: 'minmax', preprocess: 'none', batch: 32,
    });
    await exportOnnxQdq(q, join(dir, QDQ_MODEL_FILE), { io: 'float' });
    symlinkSync(model('resnet8-cifar10/float.onnx'), join(dir, FLOAT_MODEL_FILE));
    const labels = join(work, 'labels.txt');
    writeFileSync(labels, readdirSync(TEST_200).sort().join('\n'));
    prepareServeDir(dir, { preprocess: 'none', labels });
    // The chosen images as a small ImageFolder, so flexq's own loader gives the reference input tensors.
    images = CLASSES.map((c) => join(TEST_200, c, readdirSync(join(TEST_200, c)).sort()[0]));
    CLASSES.forEach((c, i) => {
      mkdirSync(join(work, 'images', c), { recursive: true });
      symlinkSync(images[i], join(work, 'images', c, 'image.png'));
    });
    served = await openServedPage(dir, { extraArgs: WEBGPU_ARGS, viewport: { width: 1000, height: 700 } });
    page = served.page;
    pageErrors = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(served.url);
    await page.waitForFunction(() => (window as unknown as { flexq: { ready: boolean; error: string | null } }).flexq.ready || (window as unknown as { flexq: { error: string | null } }).flexq.error !== null);
  });

  afterAll(async () => {
    await served?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('classifies picked images: input tensors and int8 outputs bit-exact with flexq and onnxruntime-node', async () => {
    expect(await page.evaluate(() => (window as unknown as { flexq: { error: string | null } }).flexq.error)).toBeNull();
    // The page names the flavour it was given (read from the model's metadata by the server).
    expect(await page.textContent('#status')).toContain('generic QDQ flavour');
    const results: PageResult[] = [];
    for (const image of images) {
      await page.setInputFiles('#file', image);
      const name = image.split('/').pop()!;
      await page.waitForFunction((n) => (window as unknown as { flexq: { last: PageResult | null } }).flexq.last?.name === n, name);
      results.push(await page.evaluate(() => (window as unknown as { flexq: { last: PageResult } }).flexq.last));
    }
    expect(pageErrors).toEqual([]);

    const ds = await openDataset({ path: join(work, 'images'), preprocess: 'none', sampleShape: [3, 32, 32] });
    const batch = (await ds.batches(CLASSES.length)[Symbol.asyncIterator]().next()).value!;
    const per = 3 * 32 * 32;
    results.forEach((r, i) => expect(Float32Array.from(r.input)).toEqual(batch.data.slice(i * per, (i + 1) * per)));

    const input = { shape: [CLASSES.length, 3, 32, 32], data: batch.data };
    const ortNode = await createOrtExecutor(q, 'node');
    const want = (await ortNode.run(input)).get(q.graph.outputs[0])!.data;
    await ortNode.dispose();
    const classes = want.length / CLASSES.length;
    results.forEach((r, i) => expect(Float32Array.from(r.qdq), r.name).toEqual(want.slice(i * classes, (i + 1) * classes)));

    // The float model in wasm against onnxruntime-node: the same network, float rounding apart.
    const float = await runOrt(model('resnet8-cifar10/float.onnx'), 'T0', input);
    results.forEach((r, i) => {
      const ref = float.data.slice(i * classes, (i + 1) * classes);
      expect(r.floatProvider).toBe('wasm');
      expect(Math.max(...r.float!.map((v, k) => Math.abs(v - ref[k])))).toBeLessThan(1e-5);
    });
    lastFloat = Float32Array.from(float.data.slice(-classes));
    expect(results.map((r) => r.qdqMs > 0 && r.floatMs! > 0)).toEqual(results.map(() => true));
    // flexq serve isolates the page, so onnxruntime-web runs its threaded wasm; the page states threads and sizes.
    const state = await page.evaluate(() => (window as unknown as { flexq: { isolated: boolean; threads: number; bytes: Record<string, number> } }).flexq);
    expect(state.isolated).toBe(true);
    expect(state.threads).toBe(Math.min(4, await page.evaluate(() => navigator.hardwareConcurrency)));
    expect(state.bytes.qdq).toBe(statSync(join(work, 'serve', QDQ_MODEL_FILE)).size);
    expect(await page.locator('#latency').textContent()).toMatch(new RegExp(`${state.threads} threads?$`));

    const shot = join(process.env.FLEXQ_SCREENSHOT_DIR ?? work, 'flexq-page.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect(await page.locator('#top5 tr').count()).toBe(5);
    expect(await page.locator('#name').textContent()).toBe(results.at(-1)!.name);
  });

  it('runs the float model on WebGPU when chosen, with the same scores as onnxruntime-node', async () => {
    const flexq = () => page.evaluate(() => (window as unknown as { flexq: { webgpu: boolean; last: PageResult } }).flexq);
    expect((await flexq()).webgpu).toBe(true);
    await page.selectOption('#float-provider', 'webgpu');
    await page.waitForFunction(() => (window as unknown as { flexq: { last: PageResult } }).flexq.last.floatProvider === 'webgpu');
    const { last } = await flexq();
    expect(pageErrors).toEqual([]);
    // GPU shaders sum in their own order: float rounding apart, the same scores.
    expect(Math.max(...last.float!.map((v, k) => Math.abs(v - lastFloat[k])))).toBeLessThan(1e-3);
    expect(last.floatMs).toBeGreaterThan(0);
    expect(await page.locator('#latency').textContent()).toContain('float on webgpu');
  });
});
