// Headless Chromium on `flexq serve`'s server (targets/web/server.ts), as the page test, the web bench and the
// exactness tests drive it: one persistent context with its own profile, one page on the server's origin.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import type { InferenceSession } from 'onnxruntime-common';
import { exportOnnxQdq, type QdqFlavour } from '../../src/export/onnx-qdq.js';
import type { QuantizedGraph } from '../../src/ir/quantized-graph.js';
import { CHROMIUM_PATH } from '../../src/system-tools.js';
import type { BatchExecutor } from '../../src/target.js';
import type { FloatTensor } from '../../src/tensor.js';
import { ORT_WEB_SESSION_OPTIONS } from '../../targets/web/ort-executor.js';
import { startWebServer } from '../../targets/web/server.js';
import { QDQ_MODEL_FILE } from '../../targets/web/web-config.js';

/** Headless, no first-run work and no network of its own (DESIGN.md: the browser facts). */
export const CHROMIUM_ARGS: readonly string[] = ['--headless', '--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface ServedPage {
  readonly page: Page;
  /** The server's root URL, ending in '/'. */
  readonly url: string;
  close(): Promise<void>;
}

export interface ServedPageOptions {
  /** Chromium flags besides CHROMIUM_ARGS. */
  readonly extraArgs?: readonly string[];
  readonly viewport?: { readonly width: number; readonly height: number };
}

/**
 * `flexq serve DIR`'s server and a blank headless Chromium page to open on it (url: the flexq page); close() ends both
 * and removes the profile.
 */
export async function openServedPage(dir: string, o: ServedPageOptions = {}): Promise<ServedPage> {
  const server = await startWebServer(dir, 0);
  const profile = mkdtempSync(join(tmpdir(), 'flexq-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM_PATH, headless: true, args: [...CHROMIUM_ARGS, ...(o.extraArgs ?? [])], viewport: o.viewport }).catch(async (e: unknown) => {
    await server.close();
    rmSync(profile, { recursive: true, force: true });
    throw e;
  });
  const close = async () => {
    await context.close();
    await server.close();
    rmSync(profile, { recursive: true, force: true });
  };
  return { page: await context.newPage(), url: server.url, close };
}

/** The page's globals once loadOrtWasm has run (qdq: the Chromium executor's session). */
export type OrtWindow = { ort: typeof import('onnxruntime-web'); qdq?: InferenceSession };

/**
 * Loads onnxruntime-web's wasm build from the server (the files the flexq page loads) as window.ort, with 1 thread:
 * threads would race a busy machine's other work for its cores, and the wasm kernels compute the same either way.
 */
export async function loadOrtWasm(page: Page): Promise<void> {
  // Source text, not a function: vitest's transform would rewrite a function's import() into a helper the page lacks.
  await page.evaluate(`(async () => {
    const ort = await import('/ort/ort.wasm.min.mjs');
    ort.env.wasm.wasmPaths = '/ort/';
    ort.env.wasm.numThreads = 1;
    window.ort = ort;
  })()`);
}

/**
 * onnxruntime-web in headless Chromium as an executor: `flavour`'s QDQ model (float I/O) exported into a served
 * directory, fetched from `flexq serve`'s server and run with flexq's ort-web session options. It gives the graph
 * outputs only (ignoring requests for activations); dispose() closes Chromium and removes the directory.
 */
export async function createChromiumOrtExecutor(q: QuantizedGraph, flavour: QdqFlavour): Promise<BatchExecutor> {
  const { graph } = q;
  const dir = mkdtempSync(join(tmpdir(), 'flexq-chromium-serve-'));
  await exportOnnxQdq(q, join(dir, QDQ_MODEL_FILE), { io: 'float', flavour });
  const served = await openServedPage(dir);
  const dispose = async () => {
    await served.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    // web.json: a page of the server's origin that runs no script of its own.
    await served.page.goto(`${served.url}model/web.json`);
    await loadOrtWasm(served.page);
    await served.page.evaluate(async ([url, options]) => {
      const w = window as unknown as OrtWindow;
      w.qdq = await w.ort.InferenceSession.create(url, options);
    }, [`/model/${QDQ_MODEL_FILE}`, ORT_WEB_SESSION_OPTIONS] as const);
  } catch (e) {
    await dispose();
    throw e;
  }
  return {
    name: `chromium ort-web (${flavour} flavour)`,
    graph,
    async run(input) {
      // Typed arrays cross page.evaluate as base64, both ways.
      const outputs = await served.page.evaluate(async ([data, shape, names]) => {
        const w = window as unknown as OrtWindow;
        const result = await w.qdq!.run({ [w.qdq!.inputNames[0]]: new w.ort.Tensor('float32', data, shape) });
        return names.map((n) => ({ shape: [...result[n].dims], data: result[n].data as Float32Array }));
      }, [input.data, [...input.shape], graph.outputs] as const);
      return new Map<string, FloatTensor>(graph.outputs.map((n, i) => [n, outputs[i]]));
    },
    dispose,
  };
}
