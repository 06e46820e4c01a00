// The a100 runner's job file: one int8 convolution or fully-connected layer with its integers and scales
// (layout documented at the top of runner.cu; a fully-connected layer is the 1×1 convolution of a 1×1 input).

import type { Window2d } from '../../src/ops/window.js';
import type { OutputRange } from '../../runtime/requant/index.js';

export const JOB_MAGIC = 0x31415146;

export interface ConvJob {
  /** [N, C, H, W]. */
  readonly inputShape: readonly [number, number, number, number];
  /** [M, OH, OW] per sample. */
  readonly outputShape: readonly [number, number, number];
  readonly window: Window2d;
  readonly groups: number;
  readonly inputZeroPoint: number;
  readonly weightZeroPoint: number;
  readonly output: OutputRange;
  /** float32 scales; the runner computes the a100 scale from them exactly as runtime/requant/a100.ts does. */
  readonly inputScale: number;
  readonly weightScale: number;
  readonly outputScale: number;
  /** [M], int32 at scale s_in·s_w. */
  readonly bias: Int32Array;
  /** [M][C/groups][kh][kw]. */
  readonly weights: Int8Array;
  /** NCHW. */
  readonly input: Int8Array;
}

/** A fully-connected layer y[rows][units] = x[rows][depth] · w[units][depth]ᵀ as the job the runner takes. */
export function fullyConnectedJob(rows: number, depth: number, units: number, rest: Omit<ConvJob, 'inputShape' | 'outputShape' | 'window' | 'groups'>): ConvJob {
  return {
    ...rest,
    inputShape: [rows, depth, 1, 1],
    outputShape: [units, 1, 1],
    window: { kernel: [1, 1], strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1] },
    groups: 1,
  };
}

export function outputSize(j: ConvJob): number {
  return j.inputShape[0] * j.outputShape[0] * j.outputShape[1] * j.outputShape[2];
}

export function encodeJob(j: ConvJob): Uint8Array {
  const [n, c, h, w] = j.inputShape;
  const [m, oh, ow] = j.outputShape;
  const { kernel, strides, pads, dilations } = j.window;
  const header = [n, c, h, w, m, oh, ow, kernel[0], kernel[1], strides[0], strides[1], pads[0], pads[1], pads[2], pads[3],
    dilations[0], dilations[1], j.groups, j.inputZeroPoint, j.weightZeroPoint, j.output.zeroPoint, j.output.min, j.output.max];
  const headBytes = 4 * (1 + header.length + 3);
  const bytes = new Uint8Array(headBytes + 4 * j.bias.length + j.weights.length + j.input.length);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, JOB_MAGIC, true);
  header.forEach((v, i) => view.setInt32(4 + 4 * i, v, true));
  [j.inputScale, j.weightScale, j.outputScale].forEach((s, i) => view.setFloat32(4 + 4 * (header.length + i), s, true));
  bytes.set(new Uint8Array(j.bias.buffer, j.bias.byteOffset, j.bias.byteLength), headBytes);
  bytes.set(new Uint8Array(j.weights.buffer, j.weights.byteOffset, j.weights.length), headBytes + 4 * j.bias.length);
  bytes.set(new Uint8Array(j.input.buffer, j.input.byteOffset, j.input.length), headBytes + 4 * j.bias.length + j.weights.length);
  return bytes;
}
