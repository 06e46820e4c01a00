// `npm run bench -- web [--runs N] [--models r8,kws,mnist,mv2] [--flexround-iters N] [--no-chromium]`: batch-1 latency
// (median of N runs after a warm-up) of each ONNX QDQ flavour (src/export/onnx-qdq.ts) vs the float model in
// onnxruntime-node, onnxruntime-web (wasm) in Node with 1 thread and with every core, and onnxruntime-web in headless
// Chromium (the `flexq serve` page's setup, 1 thread); each flavour's mismatched outputs against flexq's integer
// runtime (onnx mode) on held-out data, and the top-1 of the 8-bit and 7-bit weight grids (RTN; on ResNet-8 also
// FlexRound); plus, for ort-web in Node, the per-op-type time from ORT's profiler.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { InferenceSession } from 'onnxruntime-common';
import { openDataset, type DataSpec, type Preprocess } from '../../calibration/index.js';
import { quantize, type QuantMethod } from '../../src/index.js';
import { runtimeExecutor } from '../../src/api/executors.js';
import { buildQdqModel, exportOnnxQdq, type QdqFlavour } from '../../src/export/onnx-qdq.js';
import { argmaxRows } from '../../src/metrics.js';
import type { QuantizedGraph } from '../../src/ir/quantized-graph.js';
import type { WeightRange } from '../../src/quant/schemes.js';
import type { FloatTensor } from '../../src/tensor.js';
import type { BatchExecutor } from '../../src/target.js';
import { createOrtExecutor, loadOrt, ortSessionOptions, ORT_WEB_SESSION_OPTIONS, type OrtKind } from '../../targets/web/ort-executor.js';
import { FLOAT_MODEL_FILE, QDQ_MODEL_FILE } from '../../targets/web/web-config.js';
import { prepareServeDir } from '../../src/cli/commands/serve.js';
import { loadOrtWasm, openServedPage, type OrtWindow } from '../helpers/chromium.js';
import { data, model } from '../helpers/shared.js';
import type { BenchResult } from './table.js';

type Split = Omit<DataSpec, 'sampleShape' | 'preprocess'>;

interface BenchModel {
  readonly key: string;
  readonly name: string;
  readonly file: string;
  readonly preprocess: Preprocess;
  readonly calib: Split & { limit: number };
  /** Held-out samples: top-1 is counted on them, and mismatches against the runtime on the first `checked`. */
  readonly test: Split;
  readonly checked: number;
}

const kws = { path: data('kws/features.npy'), labels: data('kws/labels.npy') };
const mnist = { path: data('mnist/test-images.npy'), labels: data('mnist/test-labels.npy') };
const MODELS: BenchModel[] = [
  { key: 'r8', name: 'ResNet-8', file: 'resnet8-cifar10/float.onnx', preprocess: 'none', calib: { path: data('cifar10/calib-1024'), limit: 256 }, test: { path: data('cifar10/test-200') }, checked: 200 },
  { key: 'kws', name: 'DS-CNN', file: 'dscnn-kws/float.onnx', preprocess: 'none', calib: { ...kws, limit: 500 }, test: { ...kws, offset: 500, limit: 500 }, checked: 500 },
  { key: 'mnist', name: 'MNIST-8', file: 'mnist-8/model.onnx', preprocess: 'unit', calib: { ...mnist, limit: 1000 }, test: { ...mnist, offset: 1000, limit: 1000 }, checked: 1000 },
  { key: 'mv2', name: 'MobileNetV2', file: 'mobilenetv2-imagenet/float-from-int8.onnx', preprocess: 'imagenet', calib: { path: data('imagenet-sample'), limit: 64, offset: 100 }, test: { path: data('imagenet-sample'), limit: 100 }, checked: 10 },
];

/** The flavours benchmarked, each with the weight grid it is exported from (ort-node needs 7-bit weights). */
const FLAVOURS: readonly { flavour: QdqFlavour; range: WeightRange }[] = [
  { flavour: 'generic', range: 'int8' },
  { flavour: 'ort-web', range: 'int8' },
  { flavour: 'ort-node', range: 'int7' },
];

const CHROMIUM_REPS = 5;
const REPO = fileURLToPath(new URL('../../', import.meta.url));

/** A deterministic input in [−1, 1) of the model's sample shape (latency does not depend on the values). */
function benchInput(shape: readonly number[]): Float32Array {
  let s = 12345;
  return Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => ((s = (s * 16807) % 2147483647) / 2147483647) * 2 - 1);
}

/** One timed run: wall ms, and the process's CPU ms (all its threads) where the timer can read it. */
interface Sample {
  readonly wall: number;
  readonly cpu?: number;
}
type Timers = Record<string, () => Promise<Sample>>;

/**
 * Median wall and CPU ms of each model, timed round-robin (one run of each per round, after a warm-up of each) so that
 * a busy machine slows every model alike; CPU time also leaves out the time other processes hold the cores. JavaScript
 * source, because the same loop runs here, in the child process (ort-web with threads) and in the page (Chromium).
 */
const INTERLEAVED_MEDIANS = `async (timers, runs) => {
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const times = Object.fromEntries(Object.keys(timers).map((k) => [k, { wall: [], cpu: [] }]));
  for (const once of Object.values(timers)) await once();
  for (let r = 0; r < runs; r++)
    for (const [k, once] of Object.entries(timers)) {
      const t = await once();
      times[k].wall.push(t.wall);
      if (t.cpu !== undefined) times[k].cpu.push(t.cpu);
    }
  return Object.fromEntries(Object.entries(times).map(([k, t]) => [k, { wall: median(t.wall), cpu: t.cpu.length ? median(t.cpu) : undefined }]));
}`;
const interleavedMedians = (0, eval)(INTERLEAVED_MEDIANS) as (timers: Timers, runs: number) => Promise<Record<string, Sample>>;

/** A timer of session.run in Node: wall and process CPU ms. JavaScript source, for the child process too. */
const NODE_TIMER = `(session, feeds) => async () => {
  const cpu = process.cpuUsage();
  const start = performance.now();
  await session.run(feeds);
  const wall = performance.now() - start;
  const used = process.cpuUsage(cpu);
  return { wall, cpu: (used.user + used.system) / 1000 };
}`;
const nodeTimer = (0, eval)(NODE_TIMER) as (session: InferenceSession, feeds: InferenceSession.FeedsType) => () => Promise<Sample>;

/** Median ms of every model in one onnxruntime kind in this process, interleaved. */
async function timeModels(kind: OrtKind, models: Record<string, Uint8Array>, input: Float32Array, shape: readonly number[], runs: number): Promise<Record<string, Sample>> {
  const ort = await loadOrt(kind);
  const sessions: InferenceSession[] = [];
  const timers: Timers = {};
  try {
    for (const [name, bytes] of Object.entries(models)) {
      const session = await ort.InferenceSession.create(bytes, ortSessionOptions(kind));
      sessions.push(session);
      // onnxruntime-node's pool threads spin between runs, so its process CPU time is no measure of the work.
      const timer = nodeTimer(session, { [session.inputNames[0]]: new ort.Tensor('float32', input, [1, ...shape]) });
      timers[name] = kind === 'web' ? timer : async () => ({ wall: (await timer()).wall });
    }
    return await interleavedMedians(timers, runs);
  } finally {
    for (const s of sessions) await s.release();
  }
}

/**
 * onnxruntime-web in Node with `threads` wasm threads: a child process, since the thread count is fixed when ORT's
 * wasm module starts (this process runs it with 1 thread). Returns the median ms of each model file.
 */
async function timeOrtWebThreads(dir: string, files: Record<string, string>, inputFile: string, shape: readonly number[], threads: number, runs: number): Promise<Record<string, Sample>> {
  // A script file, not node -e: ORT's worker threads inherit the parent's flags, and --input-type breaks them.
  const script = `
    const { readFileSync } = await import('node:fs');
    const ort = await import(${JSON.stringify(import.meta.resolve('onnxruntime-web'))});
    const job = JSON.parse(process.env.FLEXQ_BENCH_JOB);
    ort.env.wasm.numThreads = job.threads;
    const buf = readFileSync(job.input);
    const input = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
    const timers = {};
    for (const [name, file] of Object.entries(job.files)) {
      const session = await ort.InferenceSession.create(file, job.options);
      timers[name] = (${NODE_TIMER})(session, { [session.inputNames[0]]: new ort.Tensor('float32', input, [1, ...job.shape]) });
    }
    const interleavedMedians = ${INTERLEAVED_MEDIANS};
    process.stdout.write(JSON.stringify(await interleavedMedians(timers, job.runs)));
    process.exit(0);`;
  const job = { files, input: inputFile, shape, threads, runs, options: ORT_WEB_SESSION_OPTIONS };
  const file = join(dir, 'time-ort-web.mjs');
  writeFileSync(file, script);
  const { stdout } = await promisify(execFile)(process.execPath, [file], {
    cwd: REPO,
    env: { ...process.env, FLEXQ_BENCH_JOB: JSON.stringify(job) },
    maxBuffer: 1 << 20,
  });
  return JSON.parse(stdout) as Record<string, Sample>;
}

const PROFILED_RUNS = 8;

/**
 * Per-op-type kernel time (µs) of one run in onnxruntime-web, from ORT's profiler: each node's fastest of
 * PROFILED_RUNS runs after a warm-up, summed by op type. The fastest, because profiling slows onnxruntime-web's wasm
 * build several-fold and unevenly (MobileNetV2 int8: ~10× per profiled run, QLinearConv nodes most), so a node's
 * mean says more about the profiler than about the kernel.
 */
async function profileOps(bytes: Uint8Array, input: Float32Array, shape: readonly number[]): Promise<Record<string, number>> {
  // onnxruntime-web's wasm module prints its profile (Chrome trace events, one per line) with fs.writeSync(1, …).
  const fs = createRequire(import.meta.url)('node:fs') as { writeSync: (fd: number, data: unknown, ...rest: unknown[]) => number };
  const writeSync = fs.writeSync;
  const lines: string[] = [];
  fs.writeSync = (fd, data, ...rest) => (fd === 1 ? (lines.push(String(data)), String(data).length) : writeSync(fd, data, ...rest));
  try {
    const ort = await loadOrt('web');
    const session = await ort.InferenceSession.create(bytes, { ...ORT_WEB_SESSION_OPTIONS, enableProfiling: true });
    const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', input, [1, ...shape]) };
    for (let i = 0; i <= PROFILED_RUNS; i++) await session.run(feeds);
    session.endProfiling();
    await session.release();
  } finally {
    fs.writeSync = writeSync;
  }
  const nodes = new Map<string, { op: string; durations: number[] }>();
  for (const line of lines.join('\n').split('\n')) {
    const event = /^\[?\s*(\{.*\})\s*[,\]]?\s*$/.exec(line.trim());
    if (!event) continue;
    const e = JSON.parse(event[1]) as { cat?: string; name?: string; dur?: number; args?: { op_name?: string } };
    if (e.cat !== 'Node' || !e.name?.endsWith('_kernel_time') || !e.args?.op_name) continue;
    const node = nodes.get(e.name) ?? { op: e.args.op_name, durations: [] };
    node.durations.push(e.dur ?? 0);
    nodes.set(e.name, node);
  }
  const perOp: Record<string, number> = {};
  for (const { op, durations } of nodes.values()) perOp[op] = (perOp[op] ?? 0) + Math.min(...durations.slice(1));
  return perOp;
}

/**
 * Median latency of each model in headless Chromium, through the same server and ORT build the page uses (1 thread:
 * threads need a cross-origin-isolated page). The models are handed to the page by request interception.
 */
async function timeChromium(dir: string, models: Record<string, Uint8Array>, runs: number): Promise<Record<string, Sample>> {
  const served = await openServedPage(dir, { extraArgs: ['--disable-gpu'] });
  try {
    const { page } = served;
    await page.route('**/bench/*.onnx', (route) => {
      const name = decodeURIComponent(new URL(route.request().url()).pathname.slice('/bench/'.length, -'.onnx'.length));
      return route.fulfill({ status: 200, contentType: 'application/octet-stream', body: Buffer.from(models[name]) });
    });
    await page.goto(`${served.url}model/web.json`);
    await loadOrtWasm(page);
    // The page holds every session and times them round-robin itself; Chromium's clock is coarse (0.1 ms) outside
    // a cross-origin-isolated page, so each sample is the mean of CHROMIUM_REPS runs.
    return await page.evaluate(async ([options, names, runs, reps, interleavedSource]) => {
      const { ort } = window as unknown as OrtWindow;
      const config = (await (await fetch('/model/web.json')).json()) as { inputShape: number[] };
      const size = config.inputShape.reduce((a, b) => a * b, 1);
      const timers: Record<string, () => Promise<{ wall: number }>> = {};
      for (const name of names) {
        const session = await ort.InferenceSession.create(`/bench/${encodeURIComponent(name)}.onnx`, options);
        const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', new Float32Array(size).fill(0.5), [1, ...config.inputShape]) };
        timers[name] = async () => {
          const start = performance.now();
          for (let i = 0; i < reps; i++) await session.run(feeds);
          return { wall: (performance.now() - start) / reps };
        };
      }
      const interleaved = (0, eval)(interleavedSource) as (t: typeof timers, n: number) => Promise<Record<string, { wall: number; cpu?: number }>>;
      return interleaved(timers, runs);
    }, [ORT_WEB_SESSION_OPTIONS, Object.keys(models), runs, CHROMIUM_REPS, INTERLEAVED_MEDIANS] as const);
  } finally {
    await served.close();
  }
}

async function quantizeFor(m: BenchModel, method: QuantMethod, weightRange: WeightRange, iters?: number): Promise<QuantizedGraph> {
  return quantize(model(m.file), {
    calib: m.calib.path, labels: m.calib.labels, limit: m.calib.limit, offset: m.calib.offset, preprocess: m.preprocess,
    // Layer by layer: the unit the README's W8A8 figures were measured with.
    method, wbits: 8, abits: 8, seed: 0, observer: 'minmax', batch: 32, weightRange, iters, granularity: 'layer',
  });
}

const BATCH = 10;

/** The model's held-out split, its first `limit` samples when given, in batches of BATCH. */
async function* testBatches(m: BenchModel, q: QuantizedGraph, limit?: number): AsyncGenerator<{ input: FloatTensor; labels: ArrayLike<number> }> {
  const sample = q.graph.values.get(q.graph.inputs[0])!.shape.slice(1) as number[];
  const cut = Math.min(limit ?? Infinity, m.test.limit ?? Infinity);
  const ds = await openDataset({ ...m.test, limit: Number.isFinite(cut) ? cut : undefined, preprocess: m.preprocess, sampleShape: sample });
  for await (const batch of ds.batches(BATCH)) yield { input: { shape: [batch.count, ...sample], data: batch.data }, labels: batch.labels! };
}

/**
 * Each executor's mismatched values against the integer runtime (onnx mode) over every activation of the first
 * m.checked held-out samples (a saturated accumulator can hide behind a later layer's rounding), of `values` in all.
 */
async function mismatchesAgainstRuntime(m: BenchModel, q: QuantizedGraph, executors: readonly BatchExecutor[]): Promise<{ values: number; mismatches: number[] }> {
  const runtime = await runtimeExecutor(q, { mode: 'onnx' });
  const layers = [...q.activations.keys()].filter((v) => !q.graph.inputs.includes(v));
  const mismatches = executors.map(() => 0);
  let values = 0;
  for await (const { input } of testBatches(m, q, m.checked)) {
    const want = await runtime.run(input, layers);
    for (const [k, e] of executors.entries()) {
      const got = await e.run(input, layers);
      for (const v of layers) {
        const [a, b] = [want.get(v)!.data, got.get(v)!.data];
        for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) mismatches[k]++;
      }
    }
    values += layers.reduce((n, v) => n + want.get(v)!.data.length, 0);
  }
  return { values, mismatches };
}

/** Top-1 on the whole held-out split, run by onnxruntime-node in the flavour it runs exactly (= the runtime's). */
async function top1Of(m: BenchModel, q: QuantizedGraph): Promise<number> {
  const executor = await createOrtExecutor(q, 'node');
  let [samples, correct] = [0, 0];
  try {
    for await (const { input, labels } of testBatches(m, q)) {
      const scores = (await executor.run(input)).get(q.graph.outputs[0])!.data;
      correct += argmaxRows(scores, labels.length).filter((c, i) => c === labels[i]).length;
      samples += labels.length;
    }
  } finally {
    await executor.dispose();
  }
  return correct / samples;
}

const loadText = (l: number[]): string => l.map((x) => x.toFixed(1)).join(' / ');

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

export default async function bench(args: string[]): Promise<BenchResult> {
  const runs = Number(option(args, '--runs') ?? 30);
  const keys = (option(args, '--models') ?? MODELS.map((m) => m.key).join(',')).split(',');
  const flexroundIters = Number(option(args, '--flexround-iters') ?? 300);
  const withChromium = !args.includes('--no-chromium');
  const threads = availableParallelism();
  const loadAtStart = loadavg();
  const work = mkdtempSync(join(tmpdir(), 'flexq-bench-web-'));
  const rows: (string | number)[][] = [];
  const accuracy: string[] = [];
  const extra: Record<string, unknown> = { runs, threads, accuracy: {} as Record<string, unknown>, profiles: {} as Record<string, unknown> };
  try {
    for (const m of MODELS.filter((x) => keys.includes(x.key))) {
      process.stderr.write(`web bench: ${m.name}: quantizing\n`);
      const grids: Record<WeightRange, QuantizedGraph> = { int8: await quantizeFor(m, 'rtn', 'int8'), int7: await quantizeFor(m, 'rtn', 'int7') };
      const dir = join(work, m.key);
      mkdirSync(dir);
      await exportOnnxQdq(grids.int8, join(dir, QDQ_MODEL_FILE), { io: 'float', flavour: 'ort-web' });
      symlinkSync(model(m.file), join(dir, FLOAT_MODEL_FILE));
      prepareServeDir(dir, { preprocess: m.preprocess });
      const float = readFileSync(model(m.file));
      const models: Record<string, Uint8Array> = { float };
      const files: Record<string, string> = { float: model(m.file) };
      for (const { flavour, range } of FLAVOURS) {
        models[flavour] = buildQdqModel(grids[range], { io: 'float', flavour });
        files[flavour] = join(dir, `${flavour}.onnx`);
        writeFileSync(files[flavour], models[flavour]);
      }
      const shape = grids.int8.graph.values.get(grids.int8.graph.inputs[0])!.shape.slice(1) as number[];
      const input = benchInput(shape);
      const inputFile = join(dir, 'input.f32');
      writeFileSync(inputFile, input);

      process.stderr.write(`web bench: ${m.name}: latency\n`);
      const latency: Record<string, Record<string, Sample>> = {};
      latency['ort-node'] = await timeModels('node', models, input, shape, runs);
      latency['ort-web Node 1'] = await timeModels('web', models, input, shape, runs);
      latency[`ort-web Node ${threads}`] = await timeOrtWebThreads(dir, files, inputFile, shape, threads, runs);
      if (withChromium) latency['ort-web Chromium 1'] = await timeChromium(dir, models, runs);

      process.stderr.write(`web bench: ${m.name}: exactness and top-1 on the held-out split\n`);
      const mismatched: Record<string, string> = {};
      const top1: Record<WeightRange, number> = { int8: 0, int7: 0 };
      for (const range of ['int8', 'int7'] as const) {
        const q = grids[range];
        const flavours = FLAVOURS.filter((f) => f.range === range || f.flavour === 'ort-web').map((f) => f.flavour);
        const executors: BatchExecutor[] = [];
        const names: string[] = [];
        for (const flavour of flavours)
          for (const kind of ['node', 'web'] as const) {
            executors.push(await createOrtExecutor(q, kind, flavour));
            names.push(`${kind} ${flavour} ${range}`);
          }
        try {
          const r = await mismatchesAgainstRuntime(m, q, executors);
          top1[range] = await top1Of(m, q);
          names.forEach((n, k) => (mismatched[n] = `${r.mismatches[k]}/${r.values}`));
        } finally {
          for (const e of executors) await e.dispose();
        }
      }
      const ranges = Object.fromEntries(FLAVOURS.map((f) => [f.flavour, f.range]));
      for (const label of Object.keys(latency)) {
        const [runtime, threadCount] = label.startsWith('ort-node') ? ['ort-node', `${threads} (intra-op default)`] : [label.replace(/ \d+$/, ''), label.replace(/^.* /, '')];
        for (const { flavour, range } of FLAVOURS) {
          const kind = runtime === 'ort-node' ? 'node' : 'web';
          const [f, q] = [latency[label].float, latency[label][flavour]];
          const cpu = f.cpu !== undefined && q.cpu !== undefined ? [f.cpu, q.cpu, f.cpu / q.cpu] : ['–', '–', '–'];
          const checked = runtime === 'ort-node' || label === 'ort-web Node 1' ? mismatched[`${kind} ${flavour} ${range}`] : '(same wasm kernels as 1 thread)';
          rows.push([m.name, runtime, threadCount, `${flavour} (${range} w)`, f.wall, q.wall, f.wall / q.wall, ...cpu, models[flavour].length / float.length, checked]);
        }
      }
      const webOn8bit = mismatched['node ort-web int8'];
      accuracy.push(`- ${m.name} RTN W8A8 top-1 (integer runtime = every exact flavour) on ${m.test.limit ?? 'all'} held-out samples (mismatches: first ${m.checked}): 8-bit weights [−127, 127] ${(100 * top1.int8).toFixed(1)} %, 7-bit [−64, 63] ${(100 * top1.int7).toFixed(1)} %; ort-node running the ort-web flavour (8-bit weights through its u8s8 kernels, which can saturate without VNNI): ${webOn8bit} values differ.`);
      (extra.accuracy as Record<string, unknown>)[m.name] = { rtn: top1, mismatched, ranges };
      if (m.key === 'r8' && flexroundIters > 0) {
        process.stderr.write(`web bench: ${m.name}: FlexRound, ${flexroundIters} iterations per layer, 8-bit and 7-bit weights\n`);
        const flex: Record<string, number> = {};
        for (const range of ['int8', 'int7'] as const) flex[range] = await top1Of(m, await quantizeFor(m, 'flexround', range, flexroundIters));
        accuracy.push(`- ${m.name} FlexRound W8A8 (${flexroundIters} iterations per layer) top-1: 8-bit weights ${(100 * flex.int8).toFixed(1)} %, 7-bit ${(100 * flex.int7).toFixed(1)} %.`);
        (extra.accuracy as Record<string, Record<string, unknown>>)[m.name].flexround = { iterations: flexroundIters, ...flex };
      }
      const profiles: Record<string, Record<string, number>> = {};
      for (const [name, bytes] of Object.entries(models)) profiles[name] = await profileOps(bytes, input, shape); // one at a time: it captures stdout
      (extra.profiles as Record<string, unknown>)[m.name] = profiles;
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const notes = Object.entries(extra.profiles as Record<string, Record<string, Record<string, number>>>).map(([name, p]) => {
    const top = (r: Record<string, number>) => Object.entries(r).sort((a, b) => b[1] - a[1]).slice(0, 4).map(([op, us]) => `${op} ${(us / 1000).toFixed(2)} ms`).join(', ');
    return `- ${name}, ort-web kernel time by op (sum of each node's fastest of ${PROFILED_RUNS} profiled runs, 1 thread): ${Object.entries(p).map(([n, r]) => `${n}: ${top(r)}`).join('; ')}`;
  });
  return {
    title: `ONNX QDQ flavours vs float: batch-1 latency (ms, median of ${runs}), size, exactness against the integer runtime`,
    columns: ['model', 'runtime', 'threads', 'flavour (weights)', 'float ms', 'int8 ms', 'speed-up', 'float CPU ms', 'int8 CPU ms', 'CPU speed-up', 'size int8/float', 'mismatched values vs runtime (all activations)'],
    rows,
    notes: [
      'onnxruntime 1.30 (node: native MLAS; web: wasm SIMD build, worker threads blocking: intra_op.allow_spinning=0); session.qdqisint8allowed=1; RTN W8A8 per-tensor, minmax calibration.',
      'Flavours: generic = int8 activations (MLAS s8s8); ort-web = uint8 activations, 8-bit weights, depthwise Convs and Convs of under 128 terms and over 32k outputs as exact integer-valued float Convs (wasm has no SIMD u8 depthwise kernel, and its u8 GEMM only pays off on long reductions), each reading a Cast and ending in one QuantizeLinear where exact; ort-node = uint8 activations, 7-bit weights [−64, 63] (no int16 saturation in u8s8 vpmaddubsw).',
      `Machine: ${threads} cores${withChromium ? '' : '; Chromium skipped'}, load average (1, 5, 15 min) ${loadText(loadAtStart)} at the start, ${loadText(loadavg())} at the end. Mismatches: every activation, on the held-out split, against the runtime's onnx mode.`,
      'CPU ms: the process CPU time of a run (all its threads), where other processes on the machine do not count; onnxruntime-node spins its pool threads, and Chromium has no such clock: wall time only.',
      ...accuracy,
      ...notes,
    ],
    extra,
  };
}
