// The onnxruntime backends: convolutions and matrix products (and their gradients) run in onnxruntime-node, one
// small cached session per (op, shapes, params); the operands are graph inputs, so a weight that changes every
// iteration costs no session rebuild. The same graphs run on the CPU (MLAS kernels) or on a GPU through ORT's
// bundled WebGPU execution provider (Dawn over Vulkan, Metal or D3D12).
import * as ort from 'onnxruntime-node';
import { fail } from '../errors.js';
import type { ConvParams, Gradients, TensorBackend, UnitStep } from './backend.js';
import { convGeometry, convKey } from './conv-geometry.js';
import { encodeOnnxGraph, type OnnxGraphSpec } from './onnx-graph.js';
import { DepthwiseWeightGradient } from './depthwise-weight-gradient.js';
import { convForwardGraph, convInputGradientGraph, convWeightGradientGraph, hostDepthwiseOps, gemmBackwardGraph, gemmForwardGraph, nchwcProbeGraph, unitStepGraph, type CpuKernels } from './ort-graphs.js';
import type { FloatTensor } from '../tensor.js';

/** Where the graphs run: onnxruntime's CPU kernels or its WebGPU execution provider. */
export type OrtDevice = 'cpu' | 'webgpu';

const CPU_SESSION_OPTIONS: ort.InferenceSession.SessionOptions = {
  intraOpNumThreads: 2,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
  // The helper initializers of a graph are all used; ORT's notices about folded ones are noise.
  logSeverityLevel: 3,
  // Every session has its own pool; a spinning worker left by one op's session takes a core from the next op's
  // (reconstruction alternates forward and backward sessions): on ResNet-8's 64→64 layer the weight gradient after
  // the input gradient took 14 ms (fastest of 40) spinning and 4.1 ms without. A unit step's session spinning on its
  // own runs its graph faster (ResNet-8's layer graphs 28.0 → 23.8 ms summed, alone), but the whole step slower
  // (46 → 76–100 ms wall, load 11): the spinning worker holds the core the host's quantizer and Adam then need.
  extra: { session: { intra_op: { allow_spinning: '0' } } },
};

export const ORT_SESSION_OPTIONS: Record<OrtDevice, ort.InferenceSession.SessionOptions> = {
  cpu: CPU_SESSION_OPTIONS,
  // A node the WebGPU EP lacks falls back to the CPU kernels with the options above (none of flexq's graphs has one:
  // test/backend/webgpu.test.ts). NCHW: in its default NHWC layout, ORT 1.30's WebGPU Conv miscomputes a Conv that
  // reduces the channels of a graph input (6.6 off on the stride-1 input gradient of a 4→6 3×3 conv; onnxruntime
  // issue #29651 reports the same); in NCHW it is right.
  webgpu: { ...CPU_SESSION_OPTIONS, executionProviders: [{ name: 'webgpu', preferredLayout: 'NCHW' }] },
};

type Feeds = Record<string, Float32Array>;

/** One compiled graph and the shapes of its inputs. */
interface CompiledOp {
  readonly session: ort.InferenceSession;
  readonly shapes: ReadonlyMap<string, readonly number[]>;
}

/**
 * Unit-step sessions kept alive at once. Reconstruction trains one unit after another and never returns to a
 * finished one, and each session keeps its memory arena (MobileNetV2 W4 FlexRound peaked at 9.4 GB of RSS keeping them all, 4.1 GB keeping four), so
 * beyond this many the least recently used is released; one needed again is rebuilt.
 */
const UNIT_SESSIONS_KEPT = 4;

class SessionCache {
  private readonly ops = new Map<string, Promise<CompiledOp>>();

  constructor(
    private readonly options: ort.InferenceSession.SessionOptions,
    private readonly capacity = Number.POSITIVE_INFINITY,
  ) {}

  get(key: string, build: () => OnnxGraphSpec): Promise<CompiledOp> {
    let op = this.ops.get(key);
    if (op) {
      this.ops.delete(key); // re-inserted below: a Map iterates in insertion order, oldest first
    } else {
      const spec = build();
      op = ort.InferenceSession.create(encodeOnnxGraph(spec), this.options).then((session) => ({
        session,
        shapes: new Map(spec.inputs.map((i) => [i.name, i.shape])),
      }));
    }
    this.ops.set(key, op);
    for (const [oldKey, old] of this.ops) {
      if (this.ops.size <= this.capacity) break;
      this.ops.delete(oldKey);
      // The backend's callers run one op at a time, so an evicted session is not in use; a failed build already
      // reached the caller that asked for it.
      void old.then((o) => o.session.release(), () => undefined);
    }
    return op;
  }

  async dispose(): Promise<void> {
    const ops = [...this.ops.values()];
    this.ops.clear();
    for (const op of ops) await (await op).session.release();
  }
}

/** Runs a compiled op; the typed arrays are handed to ORT without a copy, and `into` names outputs ORT writes in place. */
async function run(op: CompiledOp, feeds: Feeds, into: Record<string, ort.Tensor> = {}): Promise<Record<string, Float32Array>> {
  const inputs: Record<string, ort.Tensor> = {};
  for (const [name, shape] of op.shapes) inputs[name] = new ort.Tensor('float32', feeds[name], shape as number[]);
  const results = await op.session.run(inputs, Object.fromEntries(op.session.outputNames.map((name) => [name, into[name] ?? null])));
  const out: Record<string, Float32Array> = {};
  for (const name of op.session.outputNames) out[name] = results[name].data as Float32Array;
  return out;
}

function checkBias(op: string, bias: Float32Array | undefined, channels: number): void {
  if (bias && bias.length !== channels) fail('SHAPE', `${op}: bias has ${bias.length} values, expected one per output channel (${channels})`);
}

function gemmSizes(op: string, x: FloatTensor, w: FloatTensor): [number, number, number] {
  if (x.shape.length !== 2 || w.shape.length !== 2 || x.shape[1] !== w.shape[1])
    fail('SHAPE', `${op}: expected x [M, K] and w [N, K] with the same K, found x [${x.shape}] and w [${w.shape}]`);
  return [x.shape[0], x.shape[1], w.shape[0]];
}

/** MLAS's NCHWc channel block on this machine (8 with AVX2, 16 with AVX-512), read off a ReorderInput's output. */
async function nchwcBlockSize(): Promise<number> {
  const session = await ort.InferenceSession.create(encodeOnnxGraph(nchwcProbeGraph()), CPU_SESSION_OPTIONS);
  try {
    const { y } = await session.run({ x: new ort.Tensor('float32', new Float32Array(4), [1, 4, 1, 1]) });
    return y.dims[1];
  } finally {
    await session.release();
  }
}

/** An onnxruntime backend on `device`; `adapter` names the GPU for the report (Dawn's default adapter, the one the WebGPU EP takes). */
export async function createOrtBackend(device: OrtDevice = 'cpu', adapter?: string): Promise<TensorBackend> {
  const cache = new SessionCache(ORT_SESSION_OPTIONS[device]);
  const unitCache = new SessionCache(ORT_SESSION_OPTIONS[device], UNIT_SESSIONS_KEPT);
  // On the CPU a unit's depthwise weight gradients run in WebAssembly where that is less work than any onnxruntime
  // graph tried (hostDepthwiseOps); on a GPU they stay in the graph, so ∂L/∂y never leaves the device.
  const depthwise = device === 'cpu' ? new DepthwiseWeightGradient() : undefined;
  const cpu: CpuKernels | undefined = device === 'cpu' ? { nchwcBlock: await nchwcBlockSize() } : undefined;
  return {
    name: `ort-${device}`,
    ...(adapter ? { device: adapter } : {}),

    async conv2d(x: FloatTensor, w: FloatTensor, bias: Float32Array | undefined, p: ConvParams): Promise<FloatTensor> {
      const g = convGeometry(x, w, p);
      checkBias('conv2d', bias, g.cout);
      const op = await cache.get(`conv|${convKey(g)}|${bias ? 'b' : ''}`, () => convForwardGraph(g, bias !== undefined));
      const { y } = await run(op, bias ? { x: x.data, w: w.data, b: bias } : { x: x.data, w: w.data });
      return { shape: [g.n, g.cout, g.ho, g.wo], data: y };
    },

    async conv2dBackward(x: FloatTensor, w: FloatTensor, dy: FloatTensor, p: ConvParams, needInput: boolean): Promise<Gradients> {
      const g = convGeometry(x, w, p);
      if (dy.data.length !== g.n * g.cout * g.ho * g.wo)
        fail('SHAPE', `conv2dBackward: dy [${dy.shape}] does not match the convolution's output [${[g.n, g.cout, g.ho, g.wo]}]`);
      const feeds = { x: x.data, w: w.data, dy: dy.data };
      const r = await run(await cache.get(`conv-dw|${convKey(g)}`, () => convWeightGradientGraph(g)), feeds);
      if (!needInput) return { dw: { shape: w.shape, data: r.dw }, db: r.db };
      const { dx } = await run(await cache.get(`conv-dx|${convKey(g)}`, () => convInputGradientGraph(g)), feeds);
      return { dw: { shape: w.shape, data: r.dw }, db: r.db, dx: { shape: x.shape, data: dx } };
    },

    async gemm(x: FloatTensor, w: FloatTensor, bias: Float32Array | undefined): Promise<FloatTensor> {
      const [m, k, n] = gemmSizes('gemm', x, w);
      checkBias('gemm', bias, n);
      const op = await cache.get(`gemm|${m},${k},${n}|${bias ? 'b' : ''}`, () => gemmForwardGraph(m, k, n, bias !== undefined));
      const { y } = await run(op, bias ? { x: x.data, w: w.data, b: bias } : { x: x.data, w: w.data });
      return { shape: [m, n], data: y };
    },

    async gemmBackward(x: FloatTensor, w: FloatTensor, dy: FloatTensor, needInput: boolean): Promise<Gradients> {
      const [m, k, n] = gemmSizes('gemmBackward', x, w);
      if (dy.data.length !== m * n) fail('SHAPE', `gemmBackward: dy [${dy.shape}] does not match the product's output [${m}, ${n}]`);
      const op = await cache.get(`gemm-backward|${m},${k},${n}|${needInput ? 'dx' : ''}`, () => gemmBackwardGraph(m, k, n, needInput));
      const r = await run(op, { x: x.data, w: w.data, dy: dy.data });
      return { dw: { shape: w.shape, data: r.dw }, db: r.db, ...(needInput ? { dx: { shape: x.shape, data: r.dx } } : {}) };
    },

    // One graph for the whole step: on a GPU ∂L/∂y never leaves the device and x goes up once; on the CPU a layer's
    // step measured the same as a loss graph then a backward graph (ResNet-8 46.0 vs 45.8 ms summed over its
    // layers, DS-CNN 24.8 vs 25.8; fastest of 30 each), and a block's 1.4–3.6× faster than node by node.
    async unitStep(program, x, weights, biases, quantization, target, positions, needInput): Promise<UnitStep> {
      const feeds: Feeds = { x: x.data, t: target.data };
      weights.forEach((w, k) => {
        feeds[`w${k}`] = w;
        if (biases[k]) feeds[`b${k}`] = biases[k]!;
      });
      program.quantizers.forEach((q, k) => {
        feeds[`s${k}`] = Float32Array.of(quantization.steps[k]);
        feeds[`inv${k}`] = Float32Array.of(1 / quantization.steps[k]);
        if (q.qdrop) feeds[`m${k}`] = Float32Array.from(quantization.masks[k]!);
      });
      const key = `unit|${JSON.stringify(program)}|${positions}|${needInput ? 'dx' : ''}`;
      // The depthwise convs' ∂L/∂y (and inputs made inside the unit) go straight into the kernel's memory.
      const host = depthwise ? hostDepthwiseOps(program) : [];
      const views = depthwise?.operands(host.map((d) => d.geometry)) ?? [];
      const into: Record<string, ort.Tensor> = {};
      host.forEach(({ op, geometry: g }, k) => {
        into[`hdy${op.weight}`] = new ort.Tensor('float32', views[k].dy, [g.n, g.cout, g.ho, g.wo]);
        if (op.input === program.input) views[k].x.set(x.data);
        else into[`hx${op.weight}`] = new ort.Tensor('float32', views[k].x, [g.n, g.cin, g.h, g.w]);
      });
      const r = await run(await unitCache.get(key, () => unitStepGraph(program, positions, needInput, cpu)), feeds, into);
      host.forEach(({ op }, k) => (r[`dw${op.weight}`] = depthwise!.compute(k)));
      return {
        loss: r.loss[0],
        dws: weights.map((_, k) => r[`dw${k}`]),
        dLogSteps: program.quantizers.map((_, k) => r[`ds${k}`][0]),
        ...(needInput ? { dx: r.dx } : {}),
      };
    },

    dispose: async () => {
      await cache.dispose();
      await unitCache.dispose();
    },
  };
}
