// `npm run bench -- web [--runs N] [--models r8,kws,mnist,mv2]`: latency (batch 1, median of N runs after a warm-up)
// of the int8 QDQ model vs the float model in onnxruntime-node, onnxruntime-web (wasm, 1 thread) in Node, and
// onnxruntime-web in headless Chromium (the `flexq serve` page's setup); plus model sizes and, for ort-web in Node,
// the per-op-type time from ORT's profiler (which kernels ran, and where the time goes).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { InferenceSession } from 'onnxruntime-common';
import pkg from 'onnx-proto';
import { quantizeModel } from '../../src/cli/commands/quantize.js';
import { buildQdqModel, exportOnnxQdq } from '../../src/export/onnx-qdq.js';
import type { QuantizedGraph } from '../../src/quant/quantized-graph.js';
import { loadOrt, ORT_SESSION_OPTIONS, type OrtKind } from '../../targets/web/ort-executor.js';
import { startWebServer } from '../../targets/web/server.js';
import { FLOAT_MODEL_FILE, QDQ_MODEL_FILE } from '../../targets/web/web-config.js';
import { prepareServeDir } from '../../src/cli/commands/serve.js';
import { data, model } from '../helpers/shared.js';
import type { BenchResult } from './table.js';

interface BenchModel {
  readonly key: string;
  readonly name: string;
  readonly file: string;
  readonly preprocess: 'none' | 'unit' | 'imagenet';
  readonly calib: { path: string; labels?: string; limit: number; offset?: number };
}

const MODELS: BenchModel[] = [
  { key: 'r8', name: 'ResNet-8', file: 'resnet8-cifar10/float.onnx', preprocess: 'none', calib: { path: data('cifar10/calib-1024'), limit: 256 } },
  { key: 'kws', name: 'DS-CNN', file: 'dscnn-kws/float.onnx', preprocess: 'none', calib: { path: data('kws/features.npy'), labels: data('kws/labels.npy'), limit: 500 } },
  { key: 'mnist', name: 'MNIST-8', file: 'mnist-8/model.onnx', preprocess: 'unit', calib: { path: data('mnist/test-images.npy'), labels: data('mnist/test-labels.npy'), limit: 1000 } },
  { key: 'mv2', name: 'MobileNetV2', file: 'mobilenetv2-imagenet/float-from-int8.onnx', preprocess: 'imagenet', calib: { path: data('imagenet-sample'), limit: 64, offset: 100 } },
];

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** A deterministic input in [−1, 1) of the model's sample shape (latency does not depend on the values). */
function benchInput(shape: readonly number[]): Float32Array {
  let s = 12345;
  return Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => ((s = (s * 16807) % 2147483647) / 2147483647) * 2 - 1);
}

/** Median of `runs` timed calls after one warm-up; `once` returns the milliseconds one run took. */
async function medianOf(runs: number, once: () => Promise<number>): Promise<number> {
  await once();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(await once());
  return median(times);
}

async function timeSession(kind: OrtKind, bytes: Uint8Array, input: Float32Array, shape: readonly number[], runs: number, options: InferenceSession.SessionOptions = ORT_SESSION_OPTIONS): Promise<{ ms: number; session: InferenceSession }> {
  const ort = await loadOrt(kind);
  const session = await ort.InferenceSession.create(bytes, options);
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', input, [1, ...shape]) };
  const ms = await medianOf(runs, async () => {
    const start = performance.now();
    await session.run(feeds);
    return performance.now() - start;
  });
  return { ms, session };
}

const PROFILED_RUNS = 3;

/** Per-op-type kernel time (µs) per run in onnxruntime-web, from ORT's profiler events (warm-up run included). */
async function profileOps(bytes: Uint8Array, input: Float32Array, shape: readonly number[]): Promise<Record<string, number>> {
  // onnxruntime-web's wasm module prints its profile (Chrome trace events, one per line) with fs.writeSync(1, …).
  const fs = createRequire(import.meta.url)('node:fs') as { writeSync: (fd: number, data: unknown, ...rest: unknown[]) => number };
  const writeSync = fs.writeSync;
  const lines: string[] = [];
  fs.writeSync = (fd, data, ...rest) => (fd === 1 ? (lines.push(String(data)), String(data).length) : writeSync(fd, data, ...rest));
  try {
    const { session } = await timeSession('web', bytes, input, shape, PROFILED_RUNS, { ...ORT_SESSION_OPTIONS, enableProfiling: true });
    session.endProfiling();
    await session.release();
  } finally {
    fs.writeSync = writeSync;
  }
  const perOp: Record<string, number> = {};
  for (const line of lines) {
    const m = /"cat"\s*:\s*"Node".*?"dur"\s*:\s*(\d+).*?"op_name"\s*:\s*"(\w+)"/.exec(line) ?? /"dur"\s*:\s*(\d+).*?"cat"\s*:\s*"Node".*?"op_name"\s*:\s*"(\w+)"/.exec(line);
    if (m && line.includes('kernel_time')) perOp[m[2]] = (perOp[m[2]] ?? 0) + Number(m[1]) / (PROFILED_RUNS + 1);
  }
  return perOp;
}

/** Median latency of both models in headless Chromium, through the same server and ORT build the page uses. */
async function timeChromium(dir: string, runs: number): Promise<{ qdq: number; float: number }> {
  const server = await startWebServer(dir, 0);
  const profile = mkdtempSync(join(tmpdir(), 'flexq-bench-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
  try {
    const page = await context.newPage();
    await page.goto(`${server.url}model/web.json`);
    // The page holds both sessions; each timed run is measured inside the page, around session.run alone.
    await page.evaluate(async (options) => {
      const ort = (await import('/ort/ort.wasm.min.mjs' as string)) as typeof import('onnxruntime-web');
      ort.env.wasm.wasmPaths = '/ort/';
      ort.env.wasm.numThreads = 1;
      const config = (await (await fetch('/model/web.json')).json()) as { inputShape: number[] };
      const size = config.inputShape.reduce((a, b) => a * b, 1);
      const timers: Record<string, () => Promise<number>> = {};
      for (const which of ['qdq', 'float']) {
        const session = await ort.InferenceSession.create(`/model/model${which === 'qdq' ? '.qdq' : ''}.onnx`, options);
        const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', new Float32Array(size).fill(0.5), [1, ...config.inputShape]) };
        timers[which] = async () => {
          const start = performance.now();
          await session.run(feeds);
          return performance.now() - start;
        };
      }
      (window as unknown as { benchRun: typeof timers }).benchRun = timers;
    }, ORT_SESSION_OPTIONS);
    const inPage = (which: string) => () => page.evaluate((w) => (window as unknown as { benchRun: Record<string, () => Promise<number>> }).benchRun[w](), which);
    return { qdq: await medianOf(runs, inPage('qdq')), float: await medianOf(runs, inPage('float')) };
  } finally {
    await context.close();
    await server.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

/**
 * The experiment behind the notes: the same QDQ model with uint8 activations (zero points + 128, same real values).
 * onnxruntime-web has a wasm-SIMD kernel for u8·s8 GEMMs and none for s8·s8, which it runs in scalar code.
 */
function withUint8Activations(qdq: Uint8Array): Uint8Array {
  const m = pkg.onnx.ModelProto.decode(qdq);
  const activationZeroPoints = new Set(m.graph!.node!.filter((n) => n.opType === 'QuantizeLinear').map((n) => n.input![2]));
  for (const t of m.graph!.initializer!) {
    if (!activationZeroPoints.has(t.name!)) continue;
    t.dataType = pkg.onnx.TensorProto.DataType.UINT8;
    t.rawData = Uint8Array.of(new Int8Array(t.rawData!.buffer, t.rawData!.byteOffset, 1)[0] + 128);
  }
  return pkg.onnx.ModelProto.encode(m).finish();
}

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

export default async function bench(args: string[]): Promise<BenchResult> {
  const runs = Number(option(args, '--runs') ?? 30);
  const keys = (option(args, '--models') ?? MODELS.map((m) => m.key).join(',')).split(',');
  const work = mkdtempSync(join(tmpdir(), 'flexq-bench-web-'));
  const rows: (string | number)[][] = [];
  const profiles: Record<string, { qdq: Record<string, number>; float: Record<string, number> }> = {};
  try {
    for (const m of MODELS.filter((x) => keys.includes(x.key))) {
      process.stderr.write(`web bench: ${m.name}\n`);
      const q: QuantizedGraph = await quantizeModel(model(m.file), {
        calib: m.calib.path, labels: m.calib.labels, limit: m.calib.limit, offset: m.calib.offset, preprocess: m.preprocess,
        output: 'unused', method: 'rtn', wbits: 8, abits: 8, seed: 0, observer: 'minmax', batch: 32,
      });
      const dir = join(work, m.key);
      mkdirSync(dir);
      await exportOnnxQdq(q, join(dir, QDQ_MODEL_FILE), { io: 'float' });
      symlinkSync(model(m.file), join(dir, FLOAT_MODEL_FILE));
      prepareServeDir(dir, { preprocess: m.preprocess });
      const qdq = buildQdqModel(q, { io: 'float' });
      const float = readFileSync(model(m.file));
      const shape = q.graph.values.get(q.graph.inputs[0])!.shape.slice(1) as number[];
      const input = benchInput(shape);
      const latency: Record<string, number> = {};
      for (const kind of ['node', 'web'] as const) {
        for (const [which, bytes] of [['qdq', qdq], ['float', float], ['u8', withUint8Activations(qdq)]] as const) {
          const { ms, session } = await timeSession(kind, bytes, input, shape, runs);
          await session.release();
          latency[`${kind} ${which}`] = ms;
        }
      }
      const browser = await timeChromium(dir, runs);
      profiles[m.name] = { qdq: await profileOps(qdq, input, shape), float: await profileOps(float, input, shape) };
      rows.push([
        m.name,
        (statSync(model(m.file)).size / 1024).toFixed(1),
        (qdq.length / 1024).toFixed(1),
        latency['node qdq'], latency['node float'],
        latency['web qdq'], latency['web float'],
        browser.qdq, browser.float,
        latency['node u8'], latency['web u8'],
      ]);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const notes = Object.entries(profiles).map(([name, p]) => {
    const top = (r: Record<string, number>) => Object.entries(r).sort((a, b) => b[1] - a[1]).slice(0, 4).map(([op, us]) => `${op} ${(us / 1000).toFixed(2)} ms`).join(', ');
    return `- ${name}, ort-web kernel time by op (one run): int8: ${top(p.qdq)}; float: ${top(p.float)}`;
  });
  return {
    title: `ONNX QDQ int8 vs float: batch-1 latency (ms, median of ${runs}) and size`,
    columns: ['model', 'float KiB', 'QDQ KiB', 'ort-node int8', 'ort-node float', 'ort-web Node int8', 'ort-web Node float', 'ort-web Chromium int8', 'ort-web Chromium float', 'ort-node u8-act', 'ort-web Node u8-act'],
    rows,
    notes: [
      'onnxruntime 1.30; ort-web: wasm SIMD build, 1 thread; session.qdqisint8allowed=1; RTN W8A8 per-tensor; int8 = the exported model (int8 activations).',
      'u8-act: the same model with uint8 activations (experiment; ort-node on AVX2 without VNNI then saturates in its u8s8 kernel and is not bit-exact).',
      ...notes,
    ],
    extra: { runs, profiles },
  };
}
