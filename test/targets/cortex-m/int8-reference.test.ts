// The TFLite converter's int8 models (per-channel conv weights, int32 biases) compiled for the Cortex-M4: the C in
// QEMU gives the integer runtime's bytes on the labelled sets, in both roundings (double: TFLite-Micro's default, mode
// tflite-double; single: --rounding single, mode tflite-single). LiteRT.js rounds once per requantization: with double
// rounding one-step ties cascade through the layers and a few top-1 answers differ; with single rounding the C's top-1
// equals LiteRT's, and so do its bytes wherever LiteRT computes the same (all of ResNet-8's). --rounding xnnpack (mode
// tflite-xnnpack: XNNPACK's fp32 requantization, the Softmax in double) is checked on the whole models too: the M4's
// double arithmetic is libgcc's soft float.
import type { Rounding } from '../../../src/target.js';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createIntegerRuntime } from '../../../runtime/executor.js';
import { openData } from '../../../src/api/data.js';
import { defaultExecutor, openArtefact } from '../../../src/api/executors.js';
import { importTfliteInt8 } from '../../../src/import/tflite/import-tflite-int8.js';
import type { QuantizedGraph } from '../../../src/ir/quantized-graph.js';
import { sizeOf } from '../../../src/ir/shape.js';
import { CORTEX_M_CORES } from '../../../targets/cortex-m/boards.js';
import { buildElf } from '../../../targets/cortex-m/build.js';
import { generateC } from '../../../targets/cortex-m/library.js';
import { cRequantMode, type KernelSet } from '../../../targets/cortex-m/lower.js';
import { runInQemu } from '../../../targets/cortex-m/qemu.js';
import { flexq } from '../../helpers/cli.js';
import { data, model } from '../../helpers/shared.js';
import { lacksTools } from '../../helpers/tools.js';
import { mismatchedBytes } from './cases.js';

interface Int8Case {
  readonly name: string;
  readonly file: string;
  readonly data: { readonly path: string; readonly labels?: string };
  /** Inputs of the optimized single-rounding build's run: the whole labelled set. */
  readonly samples: number;
  /** Inputs of the optimized double-rounding build's run; its top-1 is counted on the runtime's bytes of every sample. */
  readonly doubleSamples: number;
  /** Inputs of the reference kernels' run (the oracle: about 14× the optimized instructions); none where another case covers the kernels. */
  readonly referenceSamples: number;
  /** Correct top-1 answers of the C in each rounding; LiteRT.js's equal the single-rounding C's. */
  readonly correct: Readonly<Record<'double' | 'single', number>>;
  /**
   * Output bytes in which the single-rounding C differs from LiteRT.js: none on ResNet-8; on DS-CNN LiteRT's optimized
   * depthwise conv rounds twice, upward (runtime/requant/tflite-builtin.ts), and its softmax is a float exp table.
   */
  readonly litertMismatchedBytes: number;
}

const CASES: readonly Int8Case[] = [
  { name: 'ResNet-8', file: model('resnet8-cifar10/int8-reference.tflite'), data: { path: data('cifar10/test-200') }, samples: 200, doubleSamples: 50, referenceSamples: 0, correct: { double: 173, single: 170 }, litertMismatchedBytes: 0 },
  { name: 'DS-CNN', file: model('dscnn-kws/int8-reference.tflite'), data: { path: data('kws/features.npy'), labels: data('kws/labels.npy') }, samples: 1000, doubleSamples: 200, referenceSamples: 20, correct: { double: 901, single: 902 }, litertMismatchedBytes: 1 },
];

const M4 = CORTEX_M_CORES['cortex-m4'];

interface Labelled {
  readonly q: QuantizedGraph;
  readonly sample: number[];
  readonly floats: Float32Array;
  readonly labels: Int32Array;
}

async function labelled(c: Int8Case): Promise<Labelled> {
  const q = importTfliteInt8(readFileSync(c.file), c.file);
  const sample = q.graph.values.get(q.graph.inputs[0])!.shape.slice(1) as number[];
  const set = await openData(c.data.path, { preprocess: 'none', labels: c.data.labels, limit: c.samples }, sample);
  const [floats, labels] = [new Float32Array(set.size * sizeOf(sample)), new Int32Array(set.size)];
  let at = 0;
  for await (const b of set.batches(256)) {
    floats.set(b.data, at * sizeOf(sample));
    labels.set(b.labels!, at);
    at += b.count;
  }
  return { q, sample, floats, labels };
}

/**
 * The graph with its one fully-connected layer (Gemm, weights [units][depth]) given a scale per unit, 1× to 2× its own
 * (the converter quantizes FC weights per tensor), its bias's scales following: every unit requantizes differently.
 */
function withPerChannelDense(q: QuantizedGraph): QuantizedGraph {
  const dense = q.graph.nodes.find((n) => n.op === 'Gemm')!;
  const [w, b] = [q.weights.get(dense.inputs[1])!, q.biases.get(dense.inputs[2])!];
  const channelScales = Float32Array.from({ length: w.shape[0] }, (_, m) => w.scale * (1 + m / w.shape[0]));
  const inputScale = q.activations.get(dense.inputs[0])!.scale;
  return {
    ...q,
    weights: new Map([...q.weights, [dense.inputs[1], { ...w, scale: Math.max(...channelScales), channelScales }]]),
    biases: new Map([...q.biases, [dense.inputs[2], { ...b, channelScales: channelScales.map((s) => Math.fround(inputScale * s)) }]]),
  };
}

/** Index of the first maximum of each row of `width` values. */
function argmaxRows(values: ArrayLike<number>, width: number): number[] {
  return Array.from({ length: values.length / width }, (_, r) => {
    let best = 0;
    for (let k = 1; k < width; k++) if (values[r * width + k] > values[r * width + best]) best = k;
    return best;
  });
}

const correct = (predicted: readonly number[], labels: Int32Array): number => predicted.filter((p, i) => p === labels[i]).length;

/** The C of `kernels` in QEMU on the first `count` inputs: its outputs, and the runtime's for them (the rounding's mode). */
async function runBoth(l: Labelled, kernels: KernelSet, count: number, name: string, rounding: Rounding = 'double'): Promise<{ qemu: Int8Array; runtime: Int8Array }> {
  const runtime = createIntegerRuntime(l.q, cRequantMode(rounding));
  const inputs = runtime.quantizeInput(l.floats.subarray(0, count * sizeOf(l.sample)));
  const generated = generateC(l.q, kernels, { rounding });
  const { elf } = await buildElf(generated, M4, name);
  const run = await runInQemu(elf, M4, inputs, count, generated.outputBytes, { icount: false });
  return { qemu: run.outputs, runtime: runtimeOutputs(l, rounding, count) };
}

/** The integer runtime's outputs on the first `count` inputs, in the mode of the C's rounding. */
function runtimeOutputs(l: Labelled, rounding: Rounding, count: number): Int8Array {
  const runtime = createIntegerRuntime(l.q, cRequantMode(rounding));
  const inputs = runtime.quantizeInput(l.floats.subarray(0, count * sizeOf(l.sample)));
  return runtime.run({ shape: [count, ...l.sample], data: inputs }).get(l.q.graph.outputs[0])!.data;
}

describe.skipIf(lacksTools('arm-gcc', 'qemu-arm'))('the converter\'s int8 models compiled for Cortex-M4 (QEMU mps2-an386)', () => {
  for (const c of CASES)
    it(`${c.name}: ${c.samples} inputs (double rounding: ${c.doubleSamples}) bit-exact with the runtime${c.referenceSamples > 0 ? ` (reference kernels on ${c.referenceSamples})` : ''}, top-1 ${c.correct.double} (double), ${c.correct.single} (single, = LiteRT.js)`, async () => {
      const l = await labelled(c);
      expect(l.labels.length).toBe(c.samples);
      expect([...l.q.weights.values()].some((w) => w.channelScales)).toBe(true);
      const [single, double] = [await runBoth(l, 'optimized', c.samples, c.name, 'single'), await runBoth(l, 'optimized', c.doubleSamples, c.name, 'double')];
      for (const r of [double, single]) {
        expect(r.qemu.length).toBe(r.runtime.length);
        expect(mismatchedBytes(r.qemu, r.runtime)).toBe(0);
      }
      if (c.referenceSamples > 0) {
        const reference = await runBoth(l, 'reference', c.referenceSamples, c.name);
        expect(mismatchedBytes(reference.qemu, reference.runtime)).toBe(0);
      }

      const litert = await defaultExecutor(openArtefact(c.file), 'litert', { mode: 'tflite-xnnpack' });
      const theirs = (await litert.run({ shape: [c.samples, ...l.sample], data: l.floats })).get(litert.graph.outputs[0])!.data;
      litert.dispose();
      const grid = l.q.activations.get(l.q.graph.outputs[0])!;
      const theirBytes = Int8Array.from(theirs, (v) => Math.round(v / grid.scale) + grid.zeroPoint); // dequantized on the same grid
      const classes = single.qemu.length / c.samples;
      const top1 = (bytes: ArrayLike<number>): number => correct(argmaxRows(bytes, classes), l.labels);
      expect({ double: top1(runtimeOutputs(l, 'double', c.samples)), single: top1(single.qemu), litert: top1(theirBytes) }).toEqual({ ...c.correct, litert: c.correct.single });
      expect(mismatchedBytes(single.qemu, theirBytes)).toBe(c.litertMismatchedBytes);
    }, 300_000);

  it('--rounding xnnpack: the outputs of ResNet-8 (10 inputs) and DS-CNN (50), Softmax included, bit-exact with the runtime\'s tflite-xnnpack, DS-CNN\'s reference kernels on 4', async () => {
    for (const [c, count] of [[CASES[0], 10], [CASES[1], 50]] as const) {
      const l = await labelled({ ...c, samples: count });
      const softmax = l.q.graph.nodes.at(-1)!;
      expect(softmax.op).toBe('Softmax');
      for (const [kernels, n] of c.referenceSamples > 0 ? [['optimized', count], ['reference', 4]] as const : [['optimized', count]] as const) {
        const r = await runBoth(l, kernels, n, c.name, 'xnnpack');
        expect(r.qemu.length).toBe(n * sizeOf(l.q.graph.values.get(softmax.outputs[0])!.shape.slice(1) as number[]));
        expect(mismatchedBytes(r.qemu, r.runtime)).toBe(0);
      }
    }
  }, 180_000);

  it('a per-channel fully-connected layer (DS-CNN\'s dense made per-channel): reference and optimized C bit-exact on 10 inputs', async () => {
    const l = await labelled({ ...CASES[1], samples: 10 });
    const q = withPerChannelDense(l.q);
    for (const kernels of ['reference', 'optimized'] as const) {
      const r = await runBoth({ ...l, q }, kernels, 10, 'DS-CNN per-channel dense');
      expect(r.qemu.length).toBe(120);
      expect(mismatchedBytes(r.qemu, r.runtime)).toBe(0);
    }
  }, 120_000);

  it('flexq compile int8-reference.tflite --target cortex-m4 --rounding single: no calibration, proven bit-exact (tflite-single), sizes and instructions reported', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'flexq-int8-compile-')), 'out');
    const r = await flexq('compile', model('dscnn-kws/int8-reference.tflite'), '--target', 'cortex-m4', '--calib', data('kws/features.npy'), '--labels', data('kws/labels.npy'),
      '--check', '10', '--rounding', 'single', '-o', out, '--json');
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(report.proof).toEqual({ data: data('kws/features.npy'), offset: 0, count: 10, calibrationData: false, quantizedBefore: true });
    expect(report.rounding).toBe('single');
    expect(report.bitExact).toBe(true);
    expect(report.mismatchedBytes).toBe(0);
    expect(readFileSync(join(out, 'c', 'flexq_names.h'), 'utf8')).toContain('#define FLEXQ_SINGLE_ROUNDING 1');
    expect(report.instructionsPerInference).toBeGreaterThan(1e6);
    expect(report.arenaBytes).toBeGreaterThan(0);
  }, 120_000);
});
