// The integer runtime as a whole: prepare-time validation on small graphs made by code, then real models quantized
// here and run in every mode on held-out data, against the float model (top-1) and the float executor (per layer).
import { beforeAll, describe, expect, it } from 'vitest';
import { openDataset, type DataSpec } from '../../calibration/index.js';
import { createIntegerRuntime, dequantize, type IntegerRuntime } from '../../runtime/executor.js';
import { REQUANT_MODES } from '../../runtime/requant/index.js';
import { quantize } from '../../src/index.js';
import { FlexqError, type ErrorCode } from '../../src/errors.js';
import { createFloatExecutor, type FloatExecutor } from '../../src/exec/float-executor.js';
import type { Graph } from '../../src/ir/graph.js';
import { loadModel } from '../../src/load-model.js';
import { activationValues } from '../../src/quant/calibrate.js';
import type { QuantizedGraph } from '../../src/ir/quantized-graph.js';
import { floats, graphOf, node, randomFloats } from '../helpers/graphs.js';
import { quantizeFixture } from '../helpers/quantize-fixture.js';
import { data, model } from '../helpers/shared.js';

/** Conv (relu) → GlobalAveragePool → Flatten → Gemm: every kind of step the runtime prepares. */
function smallNet(gemmAttrs: Record<string, number> = {}): Graph {
  return graphOf(
    { name: 'x', shape: ['N', 2, 6, 6] },
    [floats('w1', [4, 2, 3, 3], 11), floats('b1', [4], 12), floats('w2', [3, 4], 13), floats('b2', [3], 14)],
    [
      node('Conv', ['x', 'w1', 'b1'], 'c1', { kernel: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], group: 1, activation: 'relu' }),
      node('GlobalAveragePool', ['c1'], 'p'),
      node('Flatten', ['p'], 'f', { axis: 1 }),
      node('Gemm', ['f', 'w2', 'b2'], 'y', { alpha: 1, beta: 1, transA: 0, transB: 1, ...gemmAttrs }),
    ],
    ['y'],
  );
}

function expectFlexqError(run: () => unknown, code: ErrorCode, ...fragments: string[]): void {
  try {
    run();
  } catch (e) {
    expect(e).toBeInstanceOf(FlexqError);
    expect((e as FlexqError).code).toBe(code);
    for (const f of fragments) expect((e as FlexqError).message).toContain(f);
    return;
  }
  throw new Error(`expected a FlexqError ${code}`);
}

/** 10·log10(Σ ref² / Σ (ref − x)²). */
function sqnr(reference: Float32Array, x: Float32Array): number {
  let signal = 0;
  let noise = 0;
  for (let i = 0; i < reference.length; i++) {
    signal += reference[i] ** 2;
    noise += (reference[i] - x[i]) ** 2;
  }
  return 10 * Math.log10(signal / noise);
}

describe('integer runtime on a graph made by code', () => {
  let q: QuantizedGraph;
  const input = Float32Array.from(randomFloats(5 * 72, 7), (v) => 2 * v);

  beforeAll(async () => {
    q = await quantizeFixture(smallNet(), [2, 6, 6]);
  });

  it('runs a batch exactly as its samples one by one', () => {
    for (const mode of REQUANT_MODES) {
      const rt = createIntegerRuntime(q, mode);
      const x = rt.quantizeInput(input);
      const whole = rt.run({ shape: [5, 2, 6, 6], data: x }).get('y')!;
      expect(whole.shape).toEqual([5, 3]);
      for (let n = 0; n < 5; n++) {
        const one = rt.run({ shape: [1, 2, 6, 6], data: x.slice(n * 72, (n + 1) * 72) }).get('y')!;
        expect(one.data).toEqual(whole.data.slice(n * 3, (n + 1) * 3));
      }
    }
  });

  it('returns any named activation with its shape and grid, and agrees with the float executor', async () => {
    const floatRun = await createFloatExecutor(q.graph);
    try {
      const want = floatRun.run({ x: { shape: [5, 2, 6, 6], data: input } }, ['c1', 'y']);
      for (const mode of REQUANT_MODES) {
        const rt = createIntegerRuntime(q, mode);
        const got = rt.run({ shape: [5, 2, 6, 6], data: rt.quantizeInput(input) }, ['c1', 'y']);
        expect([...got.keys()]).toEqual(['c1', 'y']);
        expect(got.get('c1')!.shape).toEqual([5, 4, 6, 6]);
        expect(got.get('c1')!.quant).toEqual(q.activations.get('c1'));
        expect(sqnr(want.get('c1')!.data, dequantize(got.get('c1')!))).toBeGreaterThan(30);
        expect(sqnr(want.get('y')!.data, dequantize(got.get('y')!))).toBeGreaterThan(25);
      }
    } finally {
      floatRun.dispose();
    }
  });

  it('quantizes inputs with the mode rounding: ties away from zero for tflite, to even for onnx and a100', async () => {
    const pool = graphOf({ name: 'x', shape: ['N', 1, 2, 2] }, [], [node('MaxPool', ['x'], 'y', { kernel: [1, 1], strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1] })], ['y']);
    const quantized = await quantizeFixture(pool, [1, 2, 2]);
    const g = { ...quantized.activations.get('x')!, scale: 0.25 }; // a power of two, so k.5 · scale is exact
    const onGrid = { ...quantized, activations: new Map([['x', g], ['y', g]]) };
    const ties = Float32Array.from([0.5, 1.5, -0.5, -2.5], (k) => k * g.scale);
    const centred = (mode: 'tflite-single' | 'onnx' | 'a100') => Array.from(createIntegerRuntime(onGrid, mode).quantizeInput(ties), (v) => v - g.zeroPoint);
    expect(centred('tflite-single')).toEqual([1, 2, -1, -3]);
    expect(centred('onnx')).toEqual([0, 2, 0, -2]);
    expect(centred('a100')).toEqual([0, 2, 0, -2]);
  });

  it('dequantize gives scale · (q − zero point)', () => {
    const t = { shape: [1, 3], data: Int8Array.of(-128, 0, 127), quant: { scale: 0.5, zeroPoint: -3, bits: 8, qmin: -128, qmax: 127 } };
    expect(Array.from(dequantize(t))).toEqual([-62.5, 1.5, 65]);
  });

  it('refuses at prepare what it cannot run, naming the node', async () => {
    const subtracted = await quantizeFixture(graphOf({ name: 'x', shape: ['N', 2, 3, 4] }, [], [node('Sub', ['x', 'x'], 't')], ['t']), [2, 3, 4]);
    expectFlexqError(() => createIntegerRuntime(subtracted, 'onnx'), 'UNSUPPORTED_OP', "node 't' (Sub)", 'no integer kernel');
    const scaled = await quantizeFixture(smallNet({ alpha: 2 }), [2, 6, 6]);
    expectFlexqError(() => createIntegerRuntime(scaled, 'tflite-double'), 'UNSUPPORTED_ATTR', "node 'y' (Gemm)", 'alpha 2', 'fold them into the weights');
    const rescaled = new Map(q.activations).set('x', { ...q.activations.get('x')!, scale: 0.25 });
    expectFlexqError(() => createIntegerRuntime({ ...q, activations: rescaled }, 'onnx'), 'UNSUPPORTED_ATTR', "node 'c1' (Conv)", 'bias scale');
    const activations = new Map(q.activations);
    activations.delete('p');
    expectFlexqError(() => createIntegerRuntime({ ...q, activations }, 'a100'), 'MISSING_TENSOR', "node 'p' (GlobalAveragePool)", "'p'");
    expectFlexqError(() => createIntegerRuntime({ ...q, activations: new Map() }, 'onnx'), 'UNSUPPORTED_ATTR', '--abits 32');
    const weights = new Map(q.weights);
    weights.delete('w2');
    expectFlexqError(() => createIntegerRuntime({ ...q, weights }, 'onnx'), 'MISSING_TENSOR', "node 'y' (Gemm)", "'w2'");
  });

  it('refuses a batch of the wrong shape and unknown output names', () => {
    const rt = createIntegerRuntime(q, 'onnx');
    expectFlexqError(() => rt.run({ shape: [1, 2, 6, 5], data: new Int8Array(60) }), 'DATA_SHAPE', '[N,2,6,6]');
    expectFlexqError(() => rt.run({ shape: [1, 2, 6, 6], data: new Int8Array(72) }, ['nope']), 'MISSING_TENSOR', "'nope'");
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Real models: RTN W8A8, calibrated on one split, evaluated on another.

interface RealCase {
  readonly name: string;
  readonly file: string;
  readonly calib: { path: string; labels?: string; limit?: number };
  readonly test: Omit<DataSpec, 'sampleShape'>;
}

const REAL: readonly RealCase[] = [
  {
    name: 'ResNet-8 (CIFAR-10: calib-1024 → test-200)',
    file: 'resnet8-cifar10/float.onnx',
    calib: { path: data('cifar10/calib-1024') },
    test: { path: data('cifar10/test-200'), preprocess: 'none' },
  },
  {
    name: 'DS-CNN (KWS: first 500 → last 500)',
    file: 'dscnn-kws/float.onnx',
    calib: { path: data('kws/features.npy'), labels: data('kws/labels.npy'), limit: 500 },
    test: { path: data('kws/features.npy'), labels: data('kws/labels.npy'), preprocess: 'none', offset: 500 },
  },
];

/** Per-layer SQNR floor (dB) of every activation, dequantized, against the float executor on the same weights.
 * Measured: ResNet-8 ≥ 23.0 dB (its last residual add), DS-CNN ≥ 21.3 dB (its last convolutions), in every mode. */
const LAYER_SQNR_FLOOR_DB = 18;
/** Top-1 of every mode within this many points of the float model's. */
const TOP1_TOLERANCE = 1.5;

function top1(logits: Float32Array, labels: readonly number[]): number {
  const classes = logits.length / labels.length;
  let correct = 0;
  labels.forEach((label, n) => {
    let best = 0;
    for (let k = 1; k < classes; k++) if (logits[n * classes + k] > logits[n * classes + best]) best = k;
    if (best === label) correct++;
  });
  return (100 * correct) / labels.length;
}

async function loadAll(spec: Omit<DataSpec, 'sampleShape'>, sampleShape: readonly number[]): Promise<{ data: Float32Array; labels: number[] }> {
  const ds = await openDataset({ ...spec, sampleShape });
  const parts: Float32Array[] = [];
  const labels: number[] = [];
  for await (const b of ds.batches(64)) {
    parts.push(b.data.slice());
    labels.push(...b.labels!);
  }
  const all = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  parts.reduce((at, p) => (all.set(p, at), at + p.length), 0);
  return { data: all, labels };
}

function runFloat(ex: FloatExecutor, x: Float32Array, count: number, sample: readonly number[], outputs?: string[]) {
  return ex.run({ [ex.graph.inputs[0]]: { shape: [count, ...sample], data: x } }, outputs);
}

function runInteger(rt: IntegerRuntime, x: Float32Array, count: number, sample: readonly number[], outputs?: string[]) {
  return rt.run({ shape: [count, ...sample], data: rt.quantizeInput(x) }, outputs);
}

for (const c of REAL) {
  describe(`integer runtime on ${c.name}`, () => {
    let q: QuantizedGraph;
    let sample: number[];
    let heldOut: { data: Float32Array; labels: number[] };
    let floatTop1: number;

    beforeAll(async () => {
      q = await quantize(model(c.file), {
        calib: c.calib.path, labels: c.calib.labels, limit: c.calib.limit, method: 'rtn',
        wbits: 8, abits: 8, seed: 0, observer: 'minmax', preprocess: 'none', batch: 32,
      });
      sample = q.graph.values.get(q.graph.inputs[0])!.shape.slice(1) as number[];
      heldOut = await loadAll(c.test, sample);
      const original = await createFloatExecutor(loadModel(model(c.file)).graph);
      try {
        floatTop1 = top1(runFloat(original, heldOut.data, heldOut.labels.length, sample).get(original.graph.outputs[0])!.data, heldOut.labels);
      } finally {
        original.dispose();
      }
    });

    for (const mode of REQUANT_MODES)
      it(`${mode}: top-1 within ${TOP1_TOLERANCE} points of the float model`, () => {
        const rt = createIntegerRuntime(q, mode);
        const out = runInteger(rt, heldOut.data, heldOut.labels.length, sample).get(q.graph.outputs[0])!;
        const got = top1(dequantize(out), heldOut.labels);
        expect(Math.abs(got - floatTop1), `${mode} top-1 ${got} vs float ${floatTop1}`).toBeLessThanOrEqual(TOP1_TOLERANCE);
      });

    it(`every layer within ${LAYER_SQNR_FLOOR_DB} dB SQNR of the float executor, in every mode`, async () => {
      const names = activationValues(q.graph);
      const count = 64;
      const x = heldOut.data.subarray(0, count * sample.reduce((a, b) => a * b, 1));
      const floatRun = await createFloatExecutor(q.graph);
      try {
        const want = runFloat(floatRun, x, count, sample, names);
        for (const mode of REQUANT_MODES) {
          const got = runInteger(createIntegerRuntime(q, mode), x, count, sample, names);
          for (const name of names) expect(sqnr(want.get(name)!.data, dequantize(got.get(name)!)), `${mode} ${name}`).toBeGreaterThan(LAYER_SQNR_FLOOR_DB);
        }
      } finally {
        floatRun.dispose();
      }
    });
  });
}
