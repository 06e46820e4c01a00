// `npm run bench -- tflite [N_MOBILENET]`: the MCU peer comparison in one TFLite interpreter (tfjs-tflite, XNNPACK):
// flexq's per-tensor RTN W8A8 .tflite vs the TFLite converter's int8 model (MLPerf Tiny int8-reference.tflite,
// per-channel conv weights) vs the float model, top-1 on the same held-out data; flexq's model also in LiteRT.js;
// and the bit-exactness of flexq's runtime against both interpreters on both CPU paths over every held-out input.
import { readFileSync } from 'node:fs';
import { openDataset, type Preprocess } from '../../calibration/index.js';
import { createIntegerRuntime } from '../../runtime/executor.js';
import type { RequantMode } from '../../runtime/requant/index.js';
import { quantize } from '../../src/index.js';
import { readTfliteModel } from '../../src/import/tflite/reader.js';
import type { QuantizedGraph } from '../../src/ir/quantized-graph.js';
import { openTfliteInterpreter, pathExportOptions, type TfliteInterpreterKind, type TflitePath } from '../../targets/tflite/executor.js';
import { openLiteRt } from '../../targets/tflite/litert.js';
import { openTfjsTflite, openTfjsTfliteRaw } from '../../targets/tflite/tfjs-tflite.js';
import { compareWithInterpreter, type OpenInterpreter } from '../targets/tflite/compare.js';
import { data, model } from '../helpers/shared.js';
import type { BenchResult } from './table.js';

interface Source {
  readonly path: string;
  readonly labels?: string;
  readonly offset?: number;
  readonly limit?: number;
}

interface PeerCase {
  readonly name: string;
  readonly dir: string;
  readonly onnx: string;
  readonly floatTflite: string;
  readonly preprocess: Preprocess;
  readonly calib: Source;
  readonly test: Source;
}

const kws = { path: data('kws/features.npy'), labels: data('kws/labels.npy') };

const CASES: readonly PeerCase[] = [
  {
    name: 'ResNet-8', dir: 'resnet8-cifar10', onnx: 'float.onnx', floatTflite: 'float.tflite', preprocess: 'none',
    calib: { path: data('cifar10/calib-1024') }, test: { path: data('cifar10/test-200') },
  },
  {
    name: 'DS-CNN', dir: 'dscnn-kws', onnx: 'float.onnx', floatTflite: 'float.tflite', preprocess: 'none',
    calib: { ...kws, limit: 500 }, test: { ...kws, offset: 500, limit: 500 },
  },
];

const PATHS: readonly { name: string; kind: TfliteInterpreterKind; open: OpenInterpreter; path: TflitePath; mode: RequantMode }[] = [
  { name: 'LiteRT.js XNNPACK', kind: 'litert', open: openLiteRt, path: 'xnnpack', mode: 'tflite-xnnpack' },
  { name: 'LiteRT.js built-in', kind: 'litert', open: openLiteRt, path: 'builtin', mode: 'tflite-builtin' },
  { name: 'tfjs-tflite XNNPACK', kind: 'tfjs-tflite', open: openTfjsTflite, path: 'xnnpack', mode: 'tflite-xnnpack' },
  { name: 'tfjs-tflite built-in', kind: 'tfjs-tflite', open: openTfjsTflite, path: 'builtin', mode: 'tflite-builtin' },
];

interface Samples {
  /** NHWC float samples (the TFLite layout; the shared models' single-channel inputs read the same either way). */
  readonly nhwc: Float32Array[];
  readonly nchw: Float32Array[];
  readonly labels: number[];
}

async function samples(src: Source, preprocess: Preprocess, sample: readonly number[]): Promise<Samples> {
  const ds = await openDataset({ ...src, preprocess, sampleShape: sample });
  const out: Samples = { nhwc: [], nchw: [], labels: [] };
  const [c, h, w] = sample.length === 3 ? sample : [1, sample[0], sample[1]];
  for await (const b of ds.batches(64)) {
    const size = b.data.length / b.count;
    for (let i = 0; i < b.count; i++) {
      const x = b.data.slice(i * size, (i + 1) * size);
      const nhwc = new Float32Array(size);
      for (let ch = 0; ch < c; ch++) for (let p = 0; p < h * w; p++) nhwc[p * c + ch] = x[ch * h * w + p];
      out.nchw.push(x);
      out.nhwc.push(nhwc);
      out.labels.push(b.labels![i]);
    }
  }
  return out;
}

/** Strict argmax (ties go to the lower class index), as `flexq eval` counts top-1. */
function argmax(v: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
  return best;
}

const top1 = (predictions: number[], labels: number[]) => (100 * predictions.filter((p, i) => p === labels[i]).length) / labels.length;

/** A TFLite model with float or int8 I/O in tfjs-tflite: int8 inputs quantized with the model's own input grid. */
async function tfliteTop1(bytes: Uint8Array, source: string, s: Samples): Promise<number> {
  const m = readTfliteModel(bytes, source).subgraphs[0];
  const q = m.tensors[m.inputs[0]].quantization;
  const raw = await openTfjsTfliteRaw(bytes, source);
  try {
    const int8 = raw.inputs[0].dataType === 'int8';
    const quantize = (x: Float32Array) => Int8Array.from(x, (v) => Math.max(-128, Math.min(127, Math.round(v / q!.scale[0]) + q!.zeroPoint[0])));
    return top1(s.nhwc.map((x) => argmax(raw.run([int8 ? quantize(x) : x])[0])), s.labels);
  } finally {
    raw.dispose();
  }
}

async function flexqTop1(q: QuantizedGraph, kind: TfliteInterpreterKind, s: Samples): Promise<number> {
  const interpreter = await openTfliteInterpreter(kind, q, 'xnnpack');
  try {
    const predictions: number[] = [];
    for (const x of s.nhwc) predictions.push(argmax((await interpreter.run(x))[0]));
    return top1(predictions, s.labels);
  } finally {
    interpreter.dispose();
  }
}

/** Differing output bytes between the runtime and each interpreter path, over all held-out inputs. */
async function mismatches(q: QuantizedGraph, s: Samples): Promise<string> {
  const runtime = createIntegerRuntime(q, 'tflite-builtin');
  const inputs = s.nchw.map((x) => runtime.quantizeInput(x));
  const counts: string[] = [];
  for (const p of PATHS) {
    const r = await compareWithInterpreter(q, p.open, pathExportOptions(p.kind, p.path), p.mode, inputs);
    counts.push(`${r.mismatches}/${r.outputs}`);
  }
  return counts.join(', ');
}

export default async function bench(): Promise<BenchResult> {
  const rows: (string | number)[][] = [];
  for (const c of CASES) {
    const file = model(`${c.dir}/${c.onnx}`);
    const q = await quantize(file, {
      calib: c.calib.path, labels: c.calib.labels, limit: c.calib.limit, offset: c.calib.offset, method: 'rtn',
      wbits: 8, abits: 8, seed: 0, observer: 'minmax', preprocess: c.preprocess, batch: 32,
    });
    const s = await samples(c.test, c.preprocess, q.graph.values.get(q.graph.inputs[0])!.shape.slice(1) as number[]);
    const peer = model(`${c.dir}/int8-reference.tflite`);
    const float = model(`${c.dir}/${c.floatTflite}`);
    rows.push([
      c.name,
      `${s.labels.length}`,
      await flexqTop1(q, 'tfjs-tflite', s),
      await tfliteTop1(new Uint8Array(readFileSync(peer)), peer, s),
      await tfliteTop1(new Uint8Array(readFileSync(float)), float, s),
      await flexqTop1(q, 'litert', s),
      await mismatches(q, s),
    ]);
  }
  return {
    title: 'flexq RTN W8A8 per-tensor .tflite vs the TFLite converter int8 model (top-1 %, one interpreter)',
    columns: ['model', 'test inputs', 'flexq W8A8 per-tensor (tfjs-tflite)', 'TFLite converter int8 (tfjs-tflite)', 'float .tflite (tfjs-tflite)', 'flexq W8A8 (LiteRT.js)', 'bytes differing from the runtime: LiteRT XNNPACK, LiteRT built-in, tfjs XNNPACK, tfjs built-in'],
    rows,
    notes: [
      'flexq: RTN, per-tensor symmetric int8 weights, minmax activation grids; ResNet-8 calibrated on cifar10/calib-1024 (all) and tested on cifar10/test-200; DS-CNN calibrated on the first 500 of kws and tested on the last 500.',
      'TFLite converter int8: MLPerf Tiny int8-reference.tflite (per-channel conv weights, int8 I/O quantized here with its own input grid).',
      "Float: each model's float.tflite in the same interpreter (DS-CNN's is a dynamic-range model: int8 conv weights, float activations).",
      'Interpreters in Node: tfjs-tflite 0.0.1-alpha.10 (SIMD, single thread, XNNPACK delegate), LiteRT.js 2.5.3 (compat wasm, single thread, XNNPACK).',
    ],
  };
}
