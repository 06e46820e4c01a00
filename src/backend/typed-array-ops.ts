// Forward and backward of everything a reconstruction block holds besides convolutions and matrix products:
// plain typed-array loops shared by every backend. Image tensors are NCHW. Each backward takes what its forward
// saw (x, or the pooling argmax) and ∂L/∂y, and returns ∂L/∂x.
import { fail } from '../errors.js';
import type { Window2d } from '../ops/window.js';
import type { FloatTensor } from '../tensor.js';

function sameShape(op: string, a: FloatTensor, b: FloatTensor): void {
  if (a.data.length !== b.data.length || a.shape.join() !== b.shape.join())
    fail('SHAPE', `${op}: operands have shapes [${a.shape}] and [${b.shape}]; expected equal shapes`);
}

const map = (x: FloatTensor, f: (v: number) => number): FloatTensor => ({ shape: x.shape, data: x.data.map(f) });

function mapWithGradient(op: string, x: FloatTensor, dy: FloatTensor, slope: (v: number) => number): FloatTensor {
  sameShape(op, x, dy);
  const dx = new Float32Array(x.data.length);
  for (let i = 0; i < dx.length; i++) dx[i] = dy.data[i] * slope(x.data[i]);
  return { shape: x.shape, data: dx };
}

// Relu and Clip, the activations of every CNN, are loops of their own: through map's callback they took 15 % of
// MobileNetV2's FlexRound CPU time (V8 cannot inline a callback that several activations share).

/** y = max(x, 0). */
export function relu(x: FloatTensor): FloatTensor {
  const y = new Float32Array(x.data.length);
  for (let i = 0; i < y.length; i++) y[i] = x.data[i] > 0 ? x.data[i] : 0;
  return { shape: x.shape, data: y };
}
/** ∂x = ∂y where x > 0 (the subgradient 0 at 0, as PyTorch). */
export function reluBackward(x: FloatTensor, dy: FloatTensor): FloatTensor {
  sameShape('reluBackward', x, dy);
  const dx = new Float32Array(x.data.length);
  for (let i = 0; i < dx.length; i++) dx[i] = dy.data[i] * (x.data[i] > 0 ? 1 : 0);
  return { shape: x.shape, data: dx };
}

/** y = min(max(x, lo), hi); relu6 is clip(x, 0, 6). */
export function clip(x: FloatTensor, lo: number, hi: number): FloatTensor {
  const y = new Float32Array(x.data.length);
  for (let i = 0; i < y.length; i++) y[i] = Math.min(Math.max(x.data[i], lo), hi);
  return { shape: x.shape, data: y };
}
/** ∂x = ∂y strictly inside (lo, hi). */
export function clipBackward(x: FloatTensor, dy: FloatTensor, lo: number, hi: number): FloatTensor {
  sameShape('clipBackward', x, dy);
  const dx = new Float32Array(x.data.length);
  for (let i = 0; i < dx.length; i++) dx[i] = dy.data[i] * (x.data[i] > lo && x.data[i] < hi ? 1 : 0);
  return { shape: x.shape, data: dx };
}

/** ONNX HardSwish: y = x · clip(x/6 + 1/2, 0, 1). */
export const hardSwish = (x: FloatTensor): FloatTensor => map(x, (v) => v * Math.min(Math.max(v / 6 + 0.5, 0), 1));
/** dy/dx = 0 below −3, 1 above 3, (2x + 3)/6 between (PyTorch's hardswish_backward). */
export const hardSwishBackward = (x: FloatTensor, dy: FloatTensor): FloatTensor =>
  mapWithGradient('hardSwishBackward', x, dy, (v) => (v < -3 ? 0 : v > 3 ? 1 : (2 * v + 3) / 6));

/** ONNX HardSigmoid: y = clip(alpha·x + beta, 0, 1). */
export const hardSigmoid = (x: FloatTensor, alpha: number, beta: number): FloatTensor => map(x, (v) => Math.min(Math.max(alpha * v + beta, 0), 1));
/** dy/dx = alpha where 0 < alpha·x + beta < 1, else 0 (PyTorch's hardsigmoid_backward, for any alpha and beta). */
export const hardSigmoidBackward = (x: FloatTensor, dy: FloatTensor, alpha: number, beta: number): FloatTensor =>
  mapWithGradient('hardSigmoidBackward', x, dy, (v) => {
    const z = alpha * v + beta;
    return z > 0 && z < 1 ? alpha : 0;
  });

/** y = a + b: a residual join of one shape, or with numpy broadcasting (a per-plane or constant per-channel operand). */
export function add(a: FloatTensor, b: FloatTensor): FloatTensor {
  if (a.shape.length === b.shape.length && a.shape.every((d, k) => d === b.shape[k])) {
    const y = new Float32Array(a.data.length);
    for (let i = 0; i < y.length; i++) y[i] = a.data[i] + b.data[i];
    return { shape: a.shape, data: y };
  }
  const shape = broadcastShape(a.shape, b.shape);
  const [ia, ib] = [broadcastIndex(a.shape, shape), broadcastIndex(b.shape, shape)];
  return { shape, data: Float32Array.from(ia, (j, i) => a.data[j] + b.data[ib[i]]) };
}

/** ∂a = ∂b = ∂y, each summed over the dims its operand was broadcast along. */
export function addBackward(a: FloatTensor, b: FloatTensor, dy: FloatTensor): [FloatTensor, FloatTensor] {
  const reduced = (x: FloatTensor): FloatTensor => {
    if (x.data.length === dy.data.length) return { shape: x.shape, data: dy.data };
    const index = broadcastIndex(x.shape, dy.shape);
    const dx = new Float32Array(x.data.length);
    for (let i = 0; i < dy.data.length; i++) dx[index[i]] += dy.data[i];
    return { shape: x.shape, data: dx };
  };
  return [reduced(a), reduced(b)];
}

/** Concat along `axis`: each outer index takes every input's block in turn. */
export function concat(xs: readonly FloatTensor[], axis: number): FloatTensor {
  const shape = [...xs[0].shape];
  shape[axis] = xs.reduce((s, x) => s + x.shape[axis], 0);
  const outer = shape.slice(0, axis).reduce((p, d) => p * d, 1);
  const y = new Float32Array(shape.reduce((p, d) => p * d, 1));
  let o = 0;
  for (let i = 0; i < outer; i++)
    for (const x of xs) {
      const block = x.data.length / outer;
      y.set(x.data.subarray(i * block, (i + 1) * block), o);
      o += block;
    }
  return { shape, data: y };
}

/** ∂x of each Concat input: its blocks of ∂y. */
export function concatBackward(shapes: readonly (readonly number[])[], dy: FloatTensor, axis: number): FloatTensor[] {
  const outer = dy.shape.slice(0, axis).reduce((p, d) => p * d, 1);
  const dxs = shapes.map((shape) => ({ shape, data: new Float32Array(shape.reduce((p, d) => p * d, 1)) }));
  let o = 0;
  for (let i = 0; i < outer; i++)
    for (const dx of dxs) {
      const block = dx.data.length / outer;
      dx.data.set(dy.data.subarray(o, o + block), i * block);
      o += block;
    }
  return dxs;
}

/** y[n, c, …] = x[n, c, …] · scale[c] (a per-channel constant); with the scale it is also its own backward: ∂x = ∂y · scale. */
export function mulPerChannel(x: FloatTensor, scale: Float32Array): FloatTensor {
  const [n, c] = x.shape;
  if (scale.length !== c) fail('SHAPE', `mulPerChannel: ${scale.length} scales for ${c} channels of [${x.shape}]`);
  const inner = x.data.length / (n * c);
  const y = new Float32Array(x.data.length);
  for (let i = 0; i < y.length; i++) y[i] = x.data[i] * scale[Math.floor(i / inner) % c];
  return { shape: x.shape, data: y };
}

/** Flatten / Reshape: the data is shared, only the shape changes (backward: reshape ∂y back to x's shape). */
export function reshape(x: FloatTensor, shape: readonly number[]): FloatTensor {
  const size = shape.reduce((a, b) => a * b, 1);
  if (size !== x.data.length) fail('SHAPE', `reshape: [${x.shape}] (${x.data.length} values) cannot become [${shape}] (${size})`);
  return { shape, data: x.data };
}

/** A pooling window: kernel, strides, pads [top, left, bottom, right] (dilations as in the IR; pools here use 1). */
export interface PoolParams extends Pick<Window2d, 'kernel' | 'strides' | 'pads'> {
  /** Count padding in the average's divisor (ONNX count_include_pad). */
  readonly countIncludePad?: boolean;
  /** Output size rounds up (ONNX ceil_mode). */
  readonly ceilMode?: boolean;
}

interface PoolGeometry {
  readonly n: number;
  readonly c: number;
  readonly h: number;
  readonly w: number;
  readonly ho: number;
  readonly wo: number;
}

function poolGeometry(op: string, x: FloatTensor, p: PoolParams): PoolGeometry {
  if (x.shape.length !== 4) fail('SHAPE', `${op}: expected a 4-D NCHW input, found [${x.shape}]`);
  const [n, c, h, w] = x.shape;
  const round = p.ceilMode ? Math.ceil : Math.floor;
  const ho = round((h + p.pads[0] + p.pads[2] - p.kernel[0]) / p.strides[0]) + 1;
  const wo = round((w + p.pads[1] + p.pads[3] - p.kernel[1]) / p.strides[1]) + 1;
  if (ho < 1 || wo < 1) fail('SHAPE', `${op}: the ${p.kernel.join('×')} window does not fit the padded ${h}×${w} input`);
  return { n, c, h, w, ho, wo };
}

/** Calls visit(outputIndex, planeOffset, y0, y1, x0, x1, divisor) for every window: [y0, y1) × [x0, x1) inside the input. */
function forEachWindow(g: PoolGeometry, p: PoolParams, visit: (o: number, plane: number, y0: number, y1: number, x0: number, x1: number, divisor: number) => void): void {
  const [kh, kw] = p.kernel;
  const [sh, sw] = p.strides;
  const [pt, pl, pb, pr] = p.pads;
  let o = 0;
  for (let plane = 0; plane < g.n * g.c; plane++)
    for (let i = 0; i < g.ho; i++) {
      const ys = i * sh - pt;
      const y0 = Math.max(ys, 0);
      const y1 = Math.min(ys + kh, g.h);
      const padRows = Math.min(ys + kh, g.h + pb) - Math.max(ys, -pt);
      for (let j = 0; j < g.wo; j++, o++) {
        const xs = j * sw - pl;
        const x0 = Math.max(xs, 0);
        const x1 = Math.min(xs + kw, g.w);
        const divisor = p.countIncludePad ? padRows * (Math.min(xs + kw, g.w + pr) - Math.max(xs, -pl)) : (y1 - y0) * (x1 - x0);
        visit(o, plane * g.h * g.w, y0, y1, x0, x1, divisor);
      }
    }
}

export function averagePool(x: FloatTensor, p: PoolParams): FloatTensor {
  const g = poolGeometry('averagePool', x, p);
  const y = new Float32Array(g.n * g.c * g.ho * g.wo);
  forEachWindow(g, p, (o, plane, y0, y1, x0, x1, divisor) => {
    let s = 0;
    for (let r = y0; r < y1; r++) for (let q = x0; q < x1; q++) s += x.data[plane + r * g.w + q];
    y[o] = s / divisor;
  });
  return { shape: [g.n, g.c, g.ho, g.wo], data: y };
}

/** Each input pixel gets ∂y / divisor from every window that covers it. */
export function averagePoolBackward(x: FloatTensor, dy: FloatTensor, p: PoolParams): FloatTensor {
  const g = poolGeometry('averagePoolBackward', x, p);
  const dx = new Float32Array(x.data.length);
  forEachWindow(g, p, (o, plane, y0, y1, x0, x1, divisor) => {
    const share = dy.data[o] / divisor;
    for (let r = y0; r < y1; r++) for (let q = x0; q < x1; q++) dx[plane + r * g.w + q] += share;
  });
  return { shape: x.shape, data: dx };
}

/** y and, per output, the flat input index of its maximum (first one on ties) for the backward. */
export function maxPool(x: FloatTensor, p: PoolParams): { y: FloatTensor; argmax: Int32Array } {
  const g = poolGeometry('maxPool', x, p);
  const y = new Float32Array(g.n * g.c * g.ho * g.wo);
  const argmax = new Int32Array(y.length);
  forEachWindow(g, p, (o, plane, y0, y1, x0, x1) => {
    let best = -Infinity;
    let at = plane + y0 * g.w + x0;
    for (let r = y0; r < y1; r++)
      for (let q = x0; q < x1; q++) {
        const v = x.data[plane + r * g.w + q];
        if (v > best) (best = v), (at = plane + r * g.w + q);
      }
    y[o] = best;
    argmax[o] = at;
  });
  return { y: { shape: [g.n, g.c, g.ho, g.wo], data: y }, argmax };
}

/** ∂y routed to the input each maximum came from. */
export function maxPoolBackward(xShape: readonly number[], argmax: Int32Array, dy: FloatTensor): FloatTensor {
  const dx = new Float32Array(xShape.reduce((a, b) => a * b, 1));
  for (let o = 0; o < argmax.length; o++) dx[argmax[o]] += dy.data[o];
  return { shape: xShape, data: dx };
}

/** [N, C, H, W] → [N, C, 1, 1], the mean of each plane. */
export function globalAveragePool(x: FloatTensor): FloatTensor {
  const [n, c] = x.shape;
  const area = x.data.length / (n * c);
  const y = new Float32Array(n * c);
  for (let k = 0; k < y.length; k++) {
    let s = 0;
    for (let i = k * area; i < (k + 1) * area; i++) s += x.data[i];
    y[k] = s / area;
  }
  return { shape: [n, c, 1, 1], data: y };
}

export function globalAveragePoolBackward(xShape: readonly number[], dy: FloatTensor): FloatTensor {
  const planes = dy.data.length;
  const area = xShape.reduce((a, b) => a * b, 1) / planes;
  const dx = new Float32Array(planes * area);
  for (let k = 0; k < planes; k++) dx.fill(dy.data[k] / area, k * area, (k + 1) * area);
  return { shape: xShape, data: dx };
}

/** Every position of an [N, C, …] tensor but the channel axis (batch × pixels): what BRECQ's loss averages over. */
export const positions = (y: FloatTensor): number => y.data.length / (y.shape[1] ?? 1);

/** BRECQ's reconstruction loss: (y − target)² summed over channels, averaged over positions; dy its gradient. */
export function reconstructionLoss(y: FloatTensor, target: FloatTensor): { loss: number; dy: FloatTensor } {
  sameShape('reconstructionLoss', y, target);
  const p = positions(y);
  const dy = new Float32Array(y.data.length);
  let sum = 0;
  for (let i = 0; i < dy.length; i++) {
    const d = y.data[i] - target.data[i];
    sum += d * d;
    dy[i] = (2 * d) / p;
  }
  return { loss: sum / p, dy: { shape: y.shape, data: dy } };
}

/** Pad of a 4-D NCHW tensor with a constant, ONNX pads [n0, c0, h0, w0, n1, c1, h1, w1] (the batch is not padded). */
export function padConstant(x: FloatTensor, pads: readonly number[], value: number): FloatTensor {
  const [n, c, h, w] = x.shape;
  const [oc, oh, ow] = [c + pads[1] + pads[5], h + pads[2] + pads[6], w + pads[3] + pads[7]];
  const y = new Float32Array(n * oc * oh * ow).fill(value);
  for (let b = 0; b < n; b++)
    for (let k = 0; k < c; k++)
      for (let i = 0; i < h; i++) {
        const src = ((b * c + k) * h + i) * w;
        y.set(x.data.subarray(src, src + w), ((b * oc + k + pads[1]) * oh + i + pads[2]) * ow + pads[3]);
      }
  return { shape: [n, oc, oh, ow], data: y };
}

/** ∂L/∂x of padConstant: the gradient inside the border, cropped out of dy. */
export function padConstantBackward(xShape: readonly number[], dy: FloatTensor, pads: readonly number[]): FloatTensor {
  const [n, c, h, w] = xShape;
  const [, oc, oh, ow] = dy.shape;
  const dx = new Float32Array(n * c * h * w);
  for (let b = 0; b < n; b++)
    for (let k = 0; k < c; k++)
      for (let i = 0; i < h; i++) {
        const at = ((b * oc + k + pads[1]) * oh + i + pads[2]) * ow + pads[3];
        dx.set(dy.data.subarray(at, at + w), ((b * c + k) * h + i) * w);
      }
  return { shape: [...xShape], data: dx };
}

/** y = 1 / (1 + e^(−x)). */
export const sigmoid = (x: FloatTensor): FloatTensor => map(x, (v) => 1 / (1 + Math.exp(-v)));
/** ∂x = ∂y · y · (1 − y), from the forward's output y. */
export const sigmoidBackward = (y: FloatTensor, dy: FloatTensor): FloatTensor => mapWithGradient('sigmoidBackward', y, dy, (v) => v * (1 - v));

/** Numpy broadcasting (dims aligned on the right, each equal or 1): the output shape of `a` and `b`. */
function broadcastShape(a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const at = (s: readonly number[], k: number) => s[s.length - rank + k] ?? 1;
  return Array.from({ length: rank }, (_, k) => {
    const [p, q] = [at(a, k), at(b, k)];
    if (p !== q && p !== 1 && q !== 1) fail('SHAPE', `broadcast: shapes [${a}] and [${b}] differ in dim ${k} (${p} vs ${q}); expected equal dims or 1`);
    return Math.max(p, q);
  });
}

/** For every element of `out`, the element of an operand of shape `shape` that broadcasting reads. */
function broadcastIndex(shape: readonly number[], out: readonly number[]): Int32Array {
  const padded = [...Array<number>(out.length - shape.length).fill(1), ...shape];
  const strides = padded.map((_, k) => padded.slice(k + 1).reduce((p, d) => p * d, 1) * (padded[k] === 1 ? 0 : 1));
  const size = out.reduce((p, d) => p * d, 1);
  const index = new Int32Array(size);
  const coord = new Array<number>(out.length).fill(0);
  for (let i = 0, at = 0; i < size; i++) {
    index[i] = at;
    for (let k = out.length - 1; k >= 0; k--) {
      at += strides[k];
      if (++coord[k] < out[k]) break;
      at -= strides[k] * out[k];
      coord[k] = 0;
    }
  }
  return index;
}

/** y = a · b with numpy broadcasting (the squeeze-excite Mul of [N, C, H, W] by [N, C, 1, 1]). */
export function mul(a: FloatTensor, b: FloatTensor): FloatTensor {
  const shape = broadcastShape(a.shape, b.shape);
  const [ia, ib] = [broadcastIndex(a.shape, shape), broadcastIndex(b.shape, shape)];
  return { shape, data: Float32Array.from(ia, (j, i) => a.data[j] * b.data[ib[i]]) };
}

/** ∂a = ∂y · b and ∂b = ∂y · a, each summed over the dims its operand was broadcast along. */
export function mulBackward(a: FloatTensor, b: FloatTensor, dy: FloatTensor): [FloatTensor, FloatTensor] {
  const [ia, ib] = [broadcastIndex(a.shape, dy.shape), broadcastIndex(b.shape, dy.shape)];
  const [da, db] = [new Float32Array(a.data.length), new Float32Array(b.data.length)];
  for (let i = 0; i < dy.data.length; i++) {
    da[ia[i]] += dy.data[i] * b.data[ib[i]];
    db[ib[i]] += dy.data[i] * a.data[ia[i]];
  }
  return [
    { shape: a.shape, data: da },
    { shape: b.shape, data: db },
  ];
}

/** One axis of a resize: each output index reads `lower` with weight 1 − `weight` and `upper` with `weight`. */
export interface ResizeAxis {
  readonly lower: Int32Array;
  readonly upper: Int32Array;
  readonly weight: Float32Array;
}

export type ResizeMode = 'linear' | 'nearest';
export type ResizeCoordinates = 'half_pixel' | 'align_corners' | 'asymmetric';

/**
 * The source positions of one axis, as TensorFlow.js' resizeBilinear / resizeNearestNeighbor (what the float
 * executor runs) place them: p = (o + ½)·in/out − ½ (half_pixel), o·(in − 1)/(out − 1) (align_corners),
 * o·in/out (asymmetric); linear reads ⌊p⌋ and ⌊p⌋ + 1 clamped to the input, nearest ⌊p⌋.
 */
export function resizeAxis(input: number, output: number, mode: ResizeMode, coordinates: ResizeCoordinates): ResizeAxis {
  const axis = { lower: new Int32Array(output), upper: new Int32Array(output), weight: new Float32Array(output) };
  for (let o = 0; o < output; o++) {
    const raw =
      coordinates === 'half_pixel' ? ((o + 0.5) * input) / output - 0.5
      : coordinates === 'align_corners' ? (output > 1 ? (o * (input - 1)) / (output - 1) : 0)
      : (o * input) / output;
    const p = Math.min(Math.max(raw, 0), input - 1);
    const lower = Math.floor(p);
    axis.lower[o] = lower;
    axis.upper[o] = mode === 'linear' ? Math.min(lower + 1, input - 1) : lower;
    axis.weight[o] = mode === 'linear' ? p - lower : 0;
  }
  return axis;
}

/** Resize of the H and W axes of an NCHW tensor: y = Σ over the four corners of wy·wx·x. */
export function resize2d(x: FloatTensor, rows: ResizeAxis, cols: ResizeAxis): FloatTensor {
  const [n, c, h, w] = x.shape;
  const [oh, ow] = [rows.lower.length, cols.lower.length];
  const y = new Float32Array(n * c * oh * ow);
  for (let plane = 0; plane < n * c; plane++)
    for (let i = 0; i < oh; i++) {
      const [top, bottom, fy] = [(plane * h + rows.lower[i]) * w, (plane * h + rows.upper[i]) * w, rows.weight[i]];
      for (let j = 0; j < ow; j++) {
        const [l, r, fx] = [cols.lower[j], cols.upper[j], cols.weight[j]];
        const upper = x.data[top + l] + (x.data[top + r] - x.data[top + l]) * fx;
        const lower = x.data[bottom + l] + (x.data[bottom + r] - x.data[bottom + l]) * fx;
        y[(plane * oh + i) * ow + j] = upper + (lower - upper) * fy;
      }
    }
  return { shape: [n, c, oh, ow], data: y };
}

/** ∂L/∂x of resize2d: each output's gradient handed back to its four corners with their weights. */
export function resize2dBackward(xShape: readonly number[], dy: FloatTensor, rows: ResizeAxis, cols: ResizeAxis): FloatTensor {
  const [n, c, h, w] = xShape;
  const [oh, ow] = [rows.lower.length, cols.lower.length];
  const dx = new Float32Array(n * c * h * w);
  for (let plane = 0; plane < n * c; plane++)
    for (let i = 0; i < oh; i++) {
      const [top, bottom, fy] = [(plane * h + rows.lower[i]) * w, (plane * h + rows.upper[i]) * w, rows.weight[i]];
      for (let j = 0; j < ow; j++) {
        const [l, r, fx] = [cols.lower[j], cols.upper[j], cols.weight[j]];
        const g = dy.data[(plane * oh + i) * ow + j];
        dx[top + l] += g * (1 - fy) * (1 - fx);
        dx[top + r] += g * (1 - fy) * fx;
        dx[bottom + l] += g * fy * (1 - fx);
        dx[bottom + r] += g * fy * fx;
      }
    }
  return { shape: [...xShape], data: dx };
}
