/**
 * `npm run bench -- backend [--batch N] [--rounds N] [--models resnet8,dscnn] [--no-tfjs] [--no-torch]`: milliseconds per call of
 * the reconstruction ops (forward; backward to the weight and bias; backward to weight, bias and input) for every
 * Conv / Gemm layer shape of ResNet-8 and DS-CNN at batch 32, on ort-cpu, tfjs-wasm and, when Debian's
 * python3-torch is installed, PyTorch with 2 threads (the reference speed the FlexRound issue measures against).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TensorBackend } from '../../src/backend/backend.js';
import type { FloatTensor } from '../../src/tensor.js';
import { createOrtBackend } from '../../src/backend/ort.js';
import { createTfjsBackend } from '../../src/backend/tfjs-reference.js';
import { loadModel } from '../../src/load-model.js';
import { mulberry32 } from '../../src/random.js';
import { model } from '../helpers/shared.js';
import { layerCalls, type LayerCall } from '../backend/model-layers.js';
import type { BenchResult } from './table.js';
import { fastestMs } from './timing.js';

const MODELS: Record<string, string> = { resnet8: 'resnet8-cifar10/float.onnx', dscnn: 'dscnn-kws/float.onnx' };
const OPS = ['forward', 'backward dw', 'backward dw+dx', 'forward + backward dw'] as const;
type Op = (typeof OPS)[number];
const PYTHON = '/usr/bin/python3';

function randomTensor(shape: readonly number[], seed: number): FloatTensor {
  const r = mulberry32(seed);
  return { shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => r() * 2 - 1) };
}

async function timeLayer(backend: TensorBackend, l: LayerCall, minRuns: number, budgetMs: number): Promise<Record<Op, number>> {
  const x = randomTensor(l.x, 1);
  const w = randomTensor(l.w, 2);
  const bias = randomTensor([l.w[0]], 3).data;
  const y = l.kind === 'conv' ? await backend.conv2d(x, w, bias, l.p) : await backend.gemm(x, w, bias);
  const dy = randomTensor(y.shape, 4);
  const forward = () => (l.kind === 'conv' ? backend.conv2d(x, w, bias, l.p) : backend.gemm(x, w, bias));
  const backward = (needInput: boolean) => () => (l.kind === 'conv' ? backend.conv2dBackward(x, w, dy, l.p, needInput) : backend.gemmBackward(x, w, dy, needInput));
  return {
    forward: await fastestMs(forward, minRuns, budgetMs),
    'backward dw': await fastestMs(backward(false), minRuns, budgetMs),
    'backward dw+dx': await fastestMs(backward(true), minRuns, budgetMs),
    // One layer-wise reconstruction iteration's tensor work, sessions alternating as they will in the loop.
    'forward + backward dw': await fastestMs(
      async () => {
        await forward();
        await backward(false)();
      },
      minRuns,
      budgetMs,
    ),
  };
}

const TORCH_SCRIPT = `
import json, sys, time, torch
import torch.nn.functional as F
torch.set_num_threads(2)
torch.manual_seed(0)
def fastest_ms(fn, min_runs=10, budget=0.4):
    for _ in range(2): fn()
    s = []; start = time.perf_counter()
    while len(s) < min_runs or (time.perf_counter() - start < budget and len(s) < 200):
        t = time.perf_counter(); fn(); s.append((time.perf_counter() - t) * 1000)
    return min(s)
out = []
for l in json.load(open(sys.argv[1])):
    x = torch.rand(l['x']) * 2 - 1; w = torch.rand(l['w']) * 2 - 1; b = torch.rand(l['w'][0]) * 2 - 1
    if l['kind'] == 'conv':
        p = l['p']; t, le, bo, r = p['pads']
        def f(x, w, b):
            if t == bo and le == r: return F.conv2d(x, w, b, p['strides'], (t, le), p['dilations'], p['group'])
            return F.conv2d(F.pad(x, (le, r, t, bo)), w, b, p['strides'], 0, p['dilations'], p['group'])
    else:
        f = F.linear
    with torch.no_grad(): dy = torch.rand(f(x, w, b).shape) * 2 - 1
    def fwd():
        with torch.no_grad(): f(x, w, b)
    def bwd(need_input):
        xi = x.clone().requires_grad_(need_input); wi = w.clone().requires_grad_(); bi = b.clone().requires_grad_()
        y = f(xi, wi, bi)
        def run():
            wi.grad = None; bi.grad = None; xi.grad = None
            y.backward(dy, retain_graph=True)
        return run
    def step():
        wi = w.clone().requires_grad_(); bi = b.clone().requires_grad_()
        def run():
            wi.grad = None; bi.grad = None
            f(x, wi, bi).backward(dy)
        return run
    out.append({'forward': fastest_ms(fwd), 'backward dw': fastest_ms(bwd(False)), 'backward dw+dx': fastest_ms(bwd(True)), 'forward + backward dw': fastest_ms(step())})
print(json.dumps({'version': torch.__version__, 'threads': torch.get_num_threads(), 'ms': out}))
`;

/** PyTorch's timings for the same layers, or the reason there are none. */
function torchTimings(layers: readonly LayerCall[]): { ms?: Record<Op, number>[]; version?: string; note: string } {
  if (spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' }).status !== 0)
    return { note: `PyTorch: not measured (${PYTHON} cannot import torch; apt-get install -y python3-torch)` };
  const dir = mkdtempSync(join(tmpdir(), 'flexq-bench-'));
  try {
    writeFileSync(join(dir, 'bench.py'), TORCH_SCRIPT);
    writeFileSync(join(dir, 'layers.json'), JSON.stringify(layers));
    const r = spawnSync(PYTHON, [join(dir, 'bench.py'), join(dir, 'layers.json')], { encoding: 'utf8', maxBuffer: 1 << 24 });
    if (r.status !== 0) return { note: `PyTorch: the timing script failed: ${r.stderr.slice(-500)}` };
    const parsed = JSON.parse(r.stdout) as { version: string; threads: number; ms: Record<Op, number>[] };
    return { ms: parsed.ms, version: parsed.version, note: `PyTorch ${parsed.version} CPU, ${parsed.threads} threads (torch.set_num_threads(2)), autograd backward` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function shapeText(l: LayerCall): string {
  if (l.kind === 'gemm') return `gemm [${l.x}]·[${l.w}]ᵀ`;
  const [o, , kh, kw] = l.w;
  const dw = l.p.group > 1 ? ` dw×${l.p.group}` : '';
  return `${l.x[1]}→${o} ${kh}×${kw}/${l.p.strides[0]}${dw} @${l.x[2]}×${l.x[3]}`;
}

function option(args: string[], name: string, fallback: string): string {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
}

/** Per layer and op, the faster of two timings (rounds keep each one's fastest). */
const fastest = (a: Record<Op, number>[] | undefined, b: Record<Op, number>[]): Record<Op, number>[] =>
  a ? a.map((t, i) => Object.fromEntries(OPS.map((op) => [op, Math.min(t[op], b[i][op])])) as Record<Op, number>) : b;

export default async function backendBench(args: string[]): Promise<BenchResult> {
  const loadBefore = loadavg()[0];
  const batch = Number(option(args, '--batch', '32'));
  // ort-cpu and PyTorch take turns for this many rounds; each keeps its fastest, so a busy spell hits neither alone.
  const rounds = Number(option(args, '--rounds', '3'));
  const models = option(args, '--models', 'resnet8,dscnn').split(',');
  const layers = models.flatMap((m) => layerCalls(loadModel(model(MODELS[m])).graph, batch).map((l) => ({ ...l, name: `${m} ${l.name}` })));
  const ort = await createOrtBackend('cpu');
  const tfjs = args.includes('--no-tfjs') ? undefined : await createTfjsBackend('wasm');
  const tfjsMs: Record<Op, number>[] = [];
  let ortMs: Record<Op, number>[] | undefined;
  let torch: ReturnType<typeof torchTimings> = { note: 'PyTorch: skipped (--no-torch)' };
  for (let round = 0; round < rounds; round++) {
    const ortRound: Record<Op, number>[] = [];
    for (const l of layers) {
      ortRound.push(await timeLayer(ort, l, 10, 300));
      if (tfjs && round === 0) tfjsMs.push(await timeLayer(tfjs, l, 2, 0));
    }
    ortMs = fastest(ortMs, ortRound);
    if (!args.includes('--no-torch')) {
      const t = torchTimings(layers);
      torch = { ...t, ms: t.ms && fastest(torch.ms, t.ms) };
    }
    process.stderr.write(`backend bench: round ${round + 1} of ${rounds} done\n`);
  }
  await ort.dispose();
  const ortBest = ortMs!;
  const torchMs = torch.ms;

  const columns = ['layer', 'shape', 'op', 'ort-cpu ms', ...(tfjs ? ['tfjs-wasm ms'] : []), ...(torchMs ? ['torch ms', 'ort / torch'] : [])];
  const row = (label: string, shape: string, op: Op, o: number, tf: number | undefined, t: number | undefined) => [
    label,
    shape,
    op,
    o,
    ...(tfjs ? [tf!] : []),
    ...(torchMs ? [t!, o / t!] : []),
  ];
  const rows = layers.flatMap((l, i) => OPS.map((op) => row(l.name, shapeText(l), op, ortBest[i][op], tfjsMs[i]?.[op], torchMs?.[i][op])));
  const sum = (t: Record<Op, number>[] | undefined, op: Op, prefix: string) => t && layers.reduce((s, l, i) => (l.name.startsWith(prefix) ? s + t[i][op] : s), 0);
  for (const m of models) for (const op of OPS) rows.push(row(`${m} all layers`, 'sum', op, sum(ortBest, op, m)!, sum(tfjsMs, op, m), sum(torchMs, op, m)));
  return {
    title: `FloatTensor backend ops at batch ${batch}: ms per call (fastest of ≥ 10 runs × ${rounds} rounds; tfjs: of 2 runs)`,
    columns,
    rows,
    notes: [
      'ort-cpu: onnxruntime-node 1.30 (MLAS), intra-op threads 2; tfjs-wasm: TensorFlow.js 4.22 wasm (single-threaded in Node).',
      '"backward dw" computes ∂L/∂w and ∂L/∂b (layer-wise reconstruction); "backward dw+dx" adds ∂L/∂x (block-wise / LSQ); "forward + backward dw" is one layer-wise iteration\'s tensor work (PyTorch: forward with autograd, then backward).',
      'PyTorch "backward" rows replay a recorded graph (retain_graph), so they time the backward kernels alone.',
      torch.note,
      `Load average while measuring: ${loadBefore.toFixed(1)} before, ${loadavg()[0].toFixed(1)} after, on ${cpus().length} cores.`,
    ],
    extra: { batch, rounds, layers: layers.map((l) => l.name), ort: ortBest, tfjs: tfjsMs, torch: torchMs ?? null, torchVersion: torch.version ?? null },
  };
}
