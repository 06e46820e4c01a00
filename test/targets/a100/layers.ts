// The conv and fully-connected layers of the shared models as runner jobs with random integers (seeded), and the
// TS integer runtime's a100-mode answer for a job: what the runner's host reference and the GPU kernel must equal.
import { intAttr } from '../../../src/ops/contract.js';
import { window2d } from '../../../src/ops/window.js';
import { loadModel } from '../../../src/load-model.js';
import { mulberry32, type Random } from '../../../src/random.js';
import { conv2d, prepareConv2d } from '../../../runtime/kernels/conv2d.js';
import { fullyConnected, prepareFullyConnected } from '../../../runtime/kernels/gemm.js';
import { prepareRequantizer } from '../../../runtime/requant/index.js';
import { fullyConnectedJob, outputSize, type ConvJob } from '../../../targets/a100/job-file.js';
import { model } from '../../helpers/shared.js';

export const LAYER_MODELS = {
  'resnet8': 'resnet8-cifar10/float.onnx',
  'dscnn': 'dscnn-kws/float.onnx',
  'mobilenetv2': 'mobilenetv2-imagenet/float-from-int8.onnx',
} as const;

export interface LayerShape {
  readonly name: string;
  readonly kind: 'conv' | 'fc';
  /** conv: [C, H, W] per sample; fc: [depth]. */
  readonly input: readonly number[];
  /** conv: [M, OH, OW]; fc: [units]. */
  readonly output: readonly number[];
  readonly window?: ReturnType<typeof window2d>;
  readonly groups: number;
}

const staticDims = (dims: readonly unknown[]): number[] => dims.slice(1).map((d) => (typeof d === 'number' ? d : 1));

/** Every Conv, Gemm and MatMul of a shared model after flexq's passes. */
export function modelLayers(file: string): LayerShape[] {
  const { graph } = loadModel(model(file));
  const shape = (name: string) => staticDims(graph.values.get(name)!.shape);
  return graph.nodes.flatMap((node): LayerShape[] => {
    if (node.op === 'Conv')
      return [{ name: node.name, kind: 'conv', input: shape(node.inputs[0]), output: shape(node.outputs[0]), window: window2d(node), groups: intAttr(node, 'group', 1) }];
    if (node.op === 'Gemm' || node.op === 'MatMul') {
      const out = shape(node.outputs[0]);
      return [{ name: node.name, kind: 'fc', input: [shape(node.inputs[0]).at(-1)!], output: [out.at(-1)!], groups: 1 }];
    }
    return [];
  });
}

const int = (r: Random, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
const int8s = (r: Random, n: number, lo = -128, hi = 127) => Int8Array.from({ length: n }, () => int(r, lo, hi));

/** A job of this layer's shape: random int8 input and weights (zero point 0, as flexq's grids), int32 bias, scales chosen so outputs spread over the int8 range. */
export function randomJob(layer: LayerShape, batch: number, seed: number): ConvJob {
  const r = mulberry32(seed);
  const depth = layer.kind === 'fc' ? layer.input[0] : (layer.input[0] / layer.groups) * layer.window!.kernel[0] * layer.window!.kernel[1];
  const units = layer.output[0];
  const inputScale = Math.fround(0.01 + 0.09 * r());
  const weightScale = Math.fround(0.001 + 0.009 * r());
  // A typical |acc| is about √depth · 74 · 74; map it to about 40 output steps, so some outputs saturate.
  const outputScale = Math.fround((inputScale * weightScale * Math.sqrt(depth) * 5400) / 40);
  const zeroPoint = int(r, -20, 20);
  const output = r() < 0.5 ? { zeroPoint, min: -128, max: 127 } : { zeroPoint, min: zeroPoint, max: 127 };
  const inputCount = batch * layer.input.reduce((a, b) => a * b, 1);
  const common = {
    inputZeroPoint: int(r, -128, 127),
    weightZeroPoint: 0,
    output,
    inputScale,
    weightScale,
    outputScale,
    bias: Int32Array.from({ length: units }, () => int(r, -(2 ** 15), 2 ** 15)),
    weights: int8s(r, units * depth, -127, 127),
    input: int8s(r, inputCount),
  };
  if (layer.kind === 'fc') return fullyConnectedJob(batch, depth, units, common);
  const [c, h, w] = layer.input;
  return { ...common, inputShape: [batch, c, h, w], outputShape: [layer.output[0], layer.output[1], layer.output[2]], window: layer.window!, groups: layer.groups };
}

/** The TS integer runtime's output for a job, in the a100 requantization mode (conv2d.ts or gemm.ts). */
export function runtimeA100(job: ConvJob): Int8Array {
  const requantizer = prepareRequantizer('a100', { inputScale: job.inputScale, weightScale: job.weightScale, outputScale: job.outputScale, ...job.output });
  const y = new Int8Array(outputSize(job));
  const [batch, channels, height, width] = job.inputShape;
  const isFc = height === 1 && width === 1 && job.groups === 1 && job.window.kernel.every((k) => k === 1) && job.window.pads.every((p) => p === 0);
  if (isFc) {
    const f = prepareFullyConnected({ depth: channels, units: job.outputShape[0], inputZeroPoint: job.inputZeroPoint, weights: job.weights, weightZeroPoint: job.weightZeroPoint, bias: job.bias, requantizer });
    fullyConnected(f, job.input, batch, y);
  } else {
    const conv = prepareConv2d({
      inputShape: [channels, height, width], outputShape: job.outputShape, window: job.window, group: job.groups,
      inputZeroPoint: job.inputZeroPoint, weights: job.weights, weightZeroPoint: job.weightZeroPoint, bias: job.bias, requantizer,
    });
    conv2d(conv, job.input, batch, y);
  }
  return y;
}

export function countMismatches(a: Int8Array, b: Int8Array): number {
  if (a.length !== b.length) return Math.max(a.length, b.length);
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}
