// Small quantized graphs made by code, one per TFLite operator flexq writes, with grids chosen so that the
// requantization multipliers span several shifts and the zero points are off-centre.

import type { Node, Value } from '../../../src/ir/graph.js';
import type { ActivationQuant, QuantizedGraph } from '../../../src/ir/quantized-graph.js';
import { quantizeRtn } from '../../../src/quant/rtn.js';
import { unitIntervalQuant } from '../../../src/quant/schemes.js';
import { floats, graphOf, int64s, node } from '../../helpers/graphs.js';

export const grid = (scale: number, zeroPoint: number): ActivationQuant => ({ scale: Math.fround(scale), zeroPoint, bits: 8, qmin: -128, qmax: 127 });

interface CaseSpec {
  readonly name: string;
  /** NCHW per-sample input shape. */
  readonly input: number[];
  readonly nodes: Node[];
  readonly constants?: Value[];
  /** Grid of every activation: the input 'x' and each node output. */
  readonly grids: Record<string, ActivationQuant>;
  /** Weight scales of the conv layers (default per tensor). */
  readonly weightScales?: 'per-channel';
}

function quantized(c: CaseSpec): QuantizedGraph {
  const graph = graphOf({ name: 'x', shape: ['N', ...c.input] }, c.constants ?? [], c.nodes, [c.nodes.at(-1)!.outputs[0]]);
  const info = { flexqVersion: 'test', method: 'rtn' as const, wbits: 8, abits: 8, seed: 0, model: `${c.name}.onnx`, calibrationSamples: 0 };
  return quantizeRtn({ ...graph, source: c.name }, new Map(Object.entries(c.grids)), { wbits: 8, edgeBits: 8, weightScales: c.weightScales }, info);
}

const x = grid(0.05, -7);

const scales = (name: string, values: number[]): Value => ({ name, dtype: 'float32', shape: [values.length], data: Float32Array.from(values) });

// No clamp: negative ties of the final shift reach the output (the built-in kernel rounds them away from zero).
const DEPTHWISE_NO_ACTIVATION: CaseSpec = {
  name: 'depthwise 3x3, no activation',
  input: [24, 16, 16],
  constants: [floats('w', [24, 1, 3, 3], 27), floats('b', [24], 28)],
  nodes: [node('Conv', ['x', 'w', 'b'], 'y', { kernel: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], group: 24 })],
  grids: { x, y: grid(0.021, 3) },
};

const MUL_SQUEEZE_EXCITE: CaseSpec = {
  name: 'mul (squeeze-excite broadcast [N,C,1,1])',
  input: [8, 6, 6],
  nodes: [node('MaxPool', ['x'], 'g', { kernel: [6, 6], strides: [1, 1], pads: [0, 0, 0, 0] }), node('Sigmoid', ['g'], 's'), node('Mul', ['x', 's'], 'y')],
  grids: { x, g: x, s: unitIntervalQuant(8), y: grid(0.04, -2) },
};

const CASES: CaseSpec[] = [
  {
    name: 'conv 3x3 + relu',
    input: [8, 9, 9],
    constants: [floats('w', [12, 8, 3, 3], 11), floats('b', [12], 12)],
    nodes: [node('Conv', ['x', 'w', 'b'], 'y', { kernel: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], group: 1, activation: 'relu' })],
    grids: { x, y: grid(0.043, -100) },
  },
  {
    name: 'conv 3x3 stride 2, explicit pads (PAD + VALID)',
    input: [4, 8, 8],
    constants: [floats('w', [6, 4, 3, 3], 13), floats('b', [6], 14)],
    nodes: [node('Conv', ['x', 'w', 'b'], 'y', { kernel: [3, 3], strides: [2, 2], pads: [1, 1, 0, 0], dilations: [1, 1], group: 1 })],
    grids: { x, y: grid(0.061, 5) },
  },
  {
    name: 'depthwise 3x3 + relu6',
    input: [16, 10, 6],
    constants: [floats('w', [16, 1, 3, 3], 15), floats('b', [16], 16)],
    nodes: [node('Conv', ['x', 'w', 'b'], 'y', { kernel: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], group: 16, activation: 'relu6' })],
    grids: { x, y: grid(0.021, -128) },
  },
  DEPTHWISE_NO_ACTIVATION,
  // One multiplier and shift per channel, as Selfie Segmentation's per-channel W8A8 depthwise layers have.
  { ...DEPTHWISE_NO_ACTIVATION, name: 'depthwise 3x3 per-channel, no activation', weightScales: 'per-channel' },
  {
    name: 'fully connected',
    input: [96],
    constants: [floats('w', [10, 96], 17), floats('b', [10], 18)],
    nodes: [node('Gemm', ['x', 'w', 'b'], 'y', { transB: 1 })],
    grids: { x, y: grid(0.11, 12) },
  },
  {
    name: 'add (two grids)',
    input: [8, 6, 6],
    nodes: [node('Relu', ['x'], 'r'), node('Add', ['x', 'r'], 'y')],
    grids: { x, r: grid(0.037, -128), y: grid(0.071, -3) },
  },
  {
    // TFLite's ADD and XNNPACK's round about one x value in six apart on these grids: it shows who runs the ADD.
    name: 'add (grids where TFLite and XNNPACK round apart)',
    input: [8, 6, 6],
    nodes: [node('Relu', ['x'], 'r'), node('Add', ['x', 'r'], 'y')],
    grids: { x, r: grid(0.076, -128), y: grid(0.1, 5) },
  },
  {
    name: 'add (broadcast [N,C,1,1])',
    input: [8, 6, 6],
    nodes: [node('GlobalAveragePool', ['x'], 'g'), node('Add', ['x', 'g'], 'y')],
    grids: { x, g: grid(0.011, 4), y: grid(0.083, 10) },
  },
  {
    name: 'mul (two grids)',
    input: [8, 6, 6],
    nodes: [node('Relu', ['x'], 'r'), node('Mul', ['x', 'r'], 'y')],
    grids: { x, r: grid(0.037, -128), y: grid(0.19, 4) },
  },
  {
    name: 'relu (new grid)',
    input: [4, 7, 7],
    nodes: [node('Relu', ['x'], 'y')],
    grids: { x, y: grid(0.027, -128) },
  },
  {
    name: 'global average pool (MEAN)',
    input: [16, 7, 7],
    nodes: [node('GlobalAveragePool', ['x'], 'y')],
    grids: { x, y: grid(0.013, -20) },
  },
  {
    // ppocr-cls's squeeze-excite mean over 2×96 on its grids: ops.test.ts feeds it a channel sum that lands on a tie.
    name: 'global average pool over 2x96 (ppocr-cls grids)',
    input: [4, 2, 96],
    nodes: [node('GlobalAveragePool', ['x'], 'y')],
    grids: { x: grid(0.03855003044009209, -118), y: grid(0.004801842849701643, -65) },
  },
  {
    name: 'average pool 3x3 SAME',
    input: [4, 9, 9],
    nodes: [node('AveragePool', ['x'], 'y', { kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] })],
    grids: { x, y: x },
  },
  {
    name: 'max pool 2x2',
    input: [4, 8, 8],
    nodes: [node('MaxPool', ['x'], 'y', { kernel: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0] })],
    grids: { x, y: x },
  },
  {
    name: 'softmax',
    input: [10],
    nodes: [node('Softmax', ['x'], 'y', { axis: 1 })],
    grids: { x: grid(0.09, 3), y: unitIntervalQuant(8) },
  },
  {
    name: 'logistic',
    input: [64],
    nodes: [node('Sigmoid', ['x'], 'y')],
    grids: { x: grid(0.06, -10), y: unitIntervalQuant(8) },
  },
  {
    name: 'hard swish',
    input: [64],
    nodes: [node('HardSwish', ['x'], 'y')],
    grids: { x: grid(0.04, 0), y: grid(0.025, -30) },
  },
  {
    name: 'hard sigmoid (CAST, ADD, GATHER table)',
    input: [64],
    nodes: [node('HardSigmoid', ['x'], 'y', { alpha: 0.2, beta: 0.5 })],
    grids: { x: grid(0.05, 6), y: unitIntervalQuant(8) },
  },
  MUL_SQUEEZE_EXCITE,
  // M = 2^−4 · 2^−8 / 2^−5 = 2^−7: every product ≡ 64 (mod 128) is a tie, which TFLite's MUL rounds up and XNNPACK's to even.
  { ...MUL_SQUEEZE_EXCITE, name: 'mul (squeeze-excite, power-of-two grids: ties)', grids: { x: grid(2 ** -4, -7), g: grid(2 ** -4, -7), s: unitIntervalQuant(8), y: grid(2 ** -5, 3) } },
  {
    // fp32(0.034²/81.7…) < 2^−16: the XNNPACK delegate refuses it; one x value tells TFLite's double rounding from
    // its single rounding and another from XNNPACK's rule.
    name: 'mul x·x (product scale below 2^-16: TFLite\'s own MUL)',
    input: [64],
    nodes: [node('Mul', ['x', 'x'], 'y')],
    grids: { x: grid(0.034, -128), y: grid(81.71533966064453, 0) },
  },
  {
    name: 'transpose NCHW → NHWC',
    input: [6, 4, 5],
    nodes: [node('Transpose', ['x'], 'y', { perm: [0, 2, 3, 1] })],
    grids: { x, y: x },
  },
  {
    name: 'pad channels and width',
    input: [5, 4, 4],
    nodes: [node('Pad', ['x'], 'y', { pads: [0, 0, 0, 1, 0, 3, 0, 2], mode: 'constant', value: 0 })],
    grids: { x, y: x },
  },
  ...(['half_pixel', 'align_corners', 'asymmetric'] as const).map((coordinates) => ({
    name: `resize bilinear 5x7 → 12x10 (${coordinates})`,
    input: [3, 5, 7],
    constants: [scales('scales', [1, 1, 2.4, 10 / 7])],
    nodes: [node('Resize', ['x', '', 'scales'], 'y', { mode: 'linear', coordinateTransformationMode: coordinates })],
    grids: { x, y: x },
  })),
  {
    name: 'resize bilinear 2x (half_pixel, MediaPipe)',
    input: [4, 6, 6],
    constants: [scales('scales', [1, 1, 2, 2])],
    nodes: [node('Resize', ['x', '', 'scales'], 'y', { mode: 'linear', coordinateTransformationMode: 'half_pixel' })],
    grids: { x, y: x },
  },
  {
    name: 'conv transpose 2x2 stride 2 + bias (VALID)',
    input: [8, 5, 5],
    constants: [floats('w', [8, 3, 2, 2], 23), floats('b', [3], 24)],
    nodes: [node('ConvTranspose', ['x', 'w', 'b'], 'y', { kernel: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0], dilations: [1, 1], group: 1, outputPadding: [0, 0] })],
    grids: { x, y: grid(0.09, 3) },
  },
  {
    name: 'conv transpose 4x4 stride 2 (SAME crop)',
    input: [4, 4, 5],
    constants: [floats('w', [4, 6, 4, 4], 25), floats('b', [6], 26)],
    nodes: [node('ConvTranspose', ['x', 'w', 'b'], 'y', { kernel: [4, 4], strides: [2, 2], pads: [1, 1, 1, 1], dilations: [1, 1], group: 1, outputPadding: [0, 0] })],
    grids: { x, y: grid(0.07, -9) },
  },
  {
    name: 'concat (channels, two grids)',
    input: [4, 5, 5],
    nodes: [node('Relu', ['x'], 'r'), node('Concat', ['x', 'r'], 'y', { axis: 1 })],
    grids: { x, r: grid(0.03, -128), y: grid(0.06, -10) },
  },
  {
    name: 'reshape of NHWC (transpose) + fully connected',
    input: [4, 3, 3],
    constants: [int64s('s', [0, -1]), floats('w', [5, 36], 21)],
    nodes: [node('Reshape', ['x', 's'], 'f'), node('Gemm', ['f', 'w'], 'y', { transB: 1 })],
    grids: { x, f: x, y: grid(0.2, 0) },
  },
];

export const OP_CASES: readonly { readonly name: string; readonly q: QuantizedGraph }[] = CASES.map((c) => ({ name: c.name, q: quantized(c) }));
