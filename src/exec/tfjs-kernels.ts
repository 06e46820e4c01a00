import { fail } from '../errors.js';
import { toNumbers } from '../ir/dtype.js';
import type { Graph, Node, Value } from '../ir/graph.js';
import { checkedAxis, intAttr, intsAttr, stringAttr, type ConstTensor } from '../ops/contract.js';
import { window2d, type Window2d } from '../ops/window.js';
import { gatherIndices } from '../ops/gather.js';
import { reduceAxes } from '../ops/reduce.js';
import { nearestAttributes, nearestIndices, resizedDim } from '../ops/resize.js';
import { tileRepeats } from '../ops/tile.js';
import { transposeConst } from '../ops/transpose.js';
import { NCHW_TO_NHWC, NHWC_TO_NCHW } from '../ir/layout.js';
import { nhwcAxis, nhwcPadPairs } from './layout.js';
import { tf } from './tfjs-runtime.js';

/** What a kernel factory sees at prepare time. Rank-4 tensors reach kernels NHWC. */
export interface PrepareContext {
  readonly graph: Graph;
  readonly node: Node;
  /** IR value of input i (NCHW shapes), undefined when omitted. */
  input(i: number): Value | undefined;
  /** Constant data of input i, or an error naming the node when it is not constant. */
  constant(i: number, what: string): Value;
  /** Keeps a tensor made at prepare time until the executor is disposed. */
  own<T extends tf.Tensor>(t: T): T;
}

export type Kernel = (inputs: readonly (tf.Tensor | undefined)[]) => tf.Tensor;
type Factory = (ctx: PrepareContext) => Kernel;

const rankOf = (ctx: PrepareContext, i: number) => ctx.input(i)!.shape.length;
const outRank = (ctx: PrepareContext) => ctx.graph.values.get(ctx.node.outputs[0])!.shape.length;

function unsupported(ctx: PrepareContext, what: string): never {
  return fail('UNSUPPORTED_ATTR', `${ctx.graph.source}: node '${ctx.node.name}' (${ctx.node.op}): ${what} is not supported by the float executor`);
}

/** Float data of a constant as a tf tensor, in the layout it has. */
function constTensor(v: { readonly shape: readonly (number | string)[]; readonly data?: unknown }): tf.Tensor {
  return tf.tensor(v.data as Float32Array, v.shape as number[], 'float32');
}

function asConst(v: Value): ConstTensor {
  return { dtype: v.dtype, shape: v.shape as number[], data: v.data! };
}

type Activation = 'linear' | 'relu' | 'relu6';
function activationOf(node: Node): Activation {
  const a = node.attrs.activation ?? 'none';
  return a === 'none' ? 'linear' : (a as Activation);
}

/** Explicit pads as tf.pad pairs for an NHWC tensor, or a single number when all four are equal. */
function convPadding(w: Window2d): number | [[number, number], [number, number], [number, number], [number, number]] {
  const [t, l, b, r] = w.pads;
  if (t === l && l === b && b === r) return t;
  return [[0, 0], [t, b], [l, r], [0, 0]];
}

/**
 * tfjs-wasm 4.22 crashes or returns wrong shapes for convolutions and pools whose two strides differ
 * (e.g. PaddleOCR's [2,1]), and tfjs refuses a stride and a dilation both above 1; those run at stride 1
 * and are subsampled, which gives the same values.
 */
function evenStrides(strides: [number, number], run: (s: [number, number]) => tf.Tensor4D, dilated = false): tf.Tensor4D {
  if (strides[0] === strides[1] && !(dilated && strides[0] > 1)) return run(strides);
  const y = run([1, 1]);
  return tf.stridedSlice(y, [0, 0, 0, 0], y.shape, [1, strides[0], strides[1], 1]) as tf.Tensor4D;
}

function padded(x: tf.Tensor4D, pad: ReturnType<typeof convPadding>, value = 0): { x: tf.Tensor4D; pad: number | 'valid' } {
  return typeof pad === 'number' ? { x, pad } : { x: tf.pad(x, pad, value), pad: 'valid' };
}

/**
 * tfjs-wasm 4.22 overruns its heap on a convolution whose kernel is taller than wide (a 3×2 kernel: the next
 * allocation crashes); such a kernel is widened to square with zero columns and the input padded on the right
 * by as many (dilated) columns, which leaves every sum and the output size unchanged.
 */
function widenTallKernel(w: Window2d, weight: ConstTensor): { w: Window2d; weight: ConstTensor } {
  const [kh, kw] = w.kernel;
  if (kh <= kw) return { w, weight };
  const [o, i] = weight.shape;
  const data = new Float32Array(o * i * kh * kh);
  for (let row = 0; row < o * i * kh; row++) data.set((weight.data as Float32Array).subarray(row * kw, (row + 1) * kw), row * kh);
  const [t, l, b, r] = w.pads;
  return { w: { ...w, kernel: [kh, kh], pads: [t, l, b, r + (kh - kw) * w.dilations[1]] }, weight: { dtype: 'float32', shape: [o, i, kh, kh], data } };
}

const conv: Factory = (ctx) => {
  const { w, weight } = widenTallKernel(window2d(ctx.node), asConst(ctx.constant(1, 'weight')));
  const group = intAttr(ctx.node, 'group', 1);
  const dilated = w.dilations.some((d) => d > 1);
  const bias = ctx.input(2) ? ctx.own(constTensor(ctx.constant(2, 'bias'))) : undefined;
  const [m, cPerGroup] = weight.shape as number[];
  const activation = activationOf(ctx.node);
  const pad = convPadding(w);
  if (group === 1) {
    const filter = ctx.own(constTensor(transposeConst(weight, [2, 3, 1, 0])) as tf.Tensor4D);
    return ([x]) => {
      const p = padded(x as tf.Tensor4D, pad);
      return evenStrides(w.strides, (strides) => tf.fused.conv2d({ x: p.x, filter, strides, pad: p.pad, dilations: w.dilations, bias, activation }), dilated);
    };
  }
  if (cPerGroup === 1) {
    // Depthwise: OIHW [C·k,1,kh,kw] → [kh,kw,C,k] with channel multiplier k = M / group.
    const k = m / group;
    const hwcm = transposeConst({ ...weight, shape: [group, k, ...weight.shape.slice(2)] }, [2, 3, 0, 1]);
    const filter = ctx.own(constTensor(hwcm) as tf.Tensor4D);
    return ([x]) => {
      const p = padded(x as tf.Tensor4D, pad);
      return evenStrides(w.strides, (strides) => tf.fused.depthwiseConv2d({ x: p.x, filter, strides, pad: p.pad, dilations: w.dilations, bias, activation }), dilated);
    };
  }
  // Grouped: one conv per group over its slice of channels, concatenated.
  const filters = Array.from({ length: group }, (_, g) => {
    const per = m / group;
    const data = (weight.data as Float32Array).subarray(g * per * cPerGroup * w.kernel[0] * w.kernel[1], (g + 1) * per * cPerGroup * w.kernel[0] * w.kernel[1]);
    return ctx.own(constTensor(transposeConst({ dtype: 'float32', shape: [per, cPerGroup, ...w.kernel], data }, [2, 3, 1, 0])) as tf.Tensor4D);
  });
  return ([x]) => {
    const p = padded(x as tf.Tensor4D, pad);
    const parts = tf.split(p.x, group, 3).map((xs, g) => evenStrides(w.strides, (strides) => tf.conv2d(xs as tf.Tensor4D, filters[g], strides, p.pad, 'NHWC', w.dilations), dilated));
    const y = tf.concat(parts, 3);
    const biased = bias ? tf.add(y, bias) : y;
    return activation === 'relu' ? tf.relu(biased) : activation === 'relu6' ? tf.relu6(biased) : biased;
  };
};

const convTranspose: Factory = (ctx) => {
  const w = window2d(ctx.node);
  if (intAttr(ctx.node, 'group', 1) !== 1 || w.dilations.some((d) => d !== 1)) unsupported(ctx, 'group or dilation other than 1');
  const weight = ctx.constant(1, 'weight');
  // ONNX [Cin, Cout, kh, kw] → tf [kh, kw, Cout, Cin].
  const filter = ctx.own(constTensor(transposeConst(asConst(weight), [2, 3, 1, 0])) as tf.Tensor4D);
  const bias = ctx.input(2) ? ctx.own(constTensor(ctx.constant(2, 'bias'))) : undefined;
  const outPad = intsAttr(ctx.node, 'outputPadding', [0, 0]);
  const [, cout] = weight.shape as number[];
  return ([x]) => {
    const [n, h, wd] = x!.shape as number[];
    const full = [n, w.strides[0] * (h - 1) + w.kernel[0] + outPad[0], w.strides[1] * (wd - 1) + w.kernel[1] + outPad[1], cout] as [number, number, number, number];
    const y = tf.conv2dTranspose(x as tf.Tensor4D, filter, [full[0], full[1] - outPad[0], full[2] - outPad[1], cout], w.strides, 'valid');
    const grown = tf.pad(y, [[0, 0], [0, outPad[0]], [0, outPad[1]], [0, 0]]);
    const [t, l, b, r] = w.pads;
    const cropped = tf.slice(grown, [0, t, l, 0], [n, full[1] - t - b, full[2] - l - r, cout]);
    return bias ? tf.add(cropped, bias) : cropped;
  };
};

const gemm: Factory = (ctx) => {
  const { node } = ctx;
  const [alpha, beta] = [Number(node.attrs.alpha ?? 1), Number(node.attrs.beta ?? 1)];
  const [transA, transB] = [intAttr(node, 'transA', 0) === 1, intAttr(node, 'transB', 0) === 1];
  // tfjs-wasm's fused matMul gives wrong results with transposeB (seen with 4.22), so operands are transposed explicitly.
  const rhsOf = (y: tf.Tensor) => tf.mul(transB ? tf.transpose(y) : y, alpha) as tf.Tensor2D;
  const b = ctx.input(1)!.data ? ctx.own(tf.tidy(() => rhsOf(constTensor(ctx.input(1)!)))) : undefined;
  const c = ctx.input(2)?.data ? ctx.own(tf.mul(constTensor(ctx.input(2)!), beta)) : undefined;
  const activation = activationOf(node);
  return ([x, y, z]) => {
    const a = (transA ? tf.transpose(x!) : x!) as tf.Tensor2D;
    const bias = c ?? (z ? tf.mul(z, beta) : undefined);
    return tf.fused.matMul({ a, b: b ?? rhsOf(y!), bias, activation });
  };
};

/** Element-wise binary op: operands of lower rank than a rank-4 output are aligned NCHW-style, then moved to NHWC. */
function binary(fn: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor): Factory {
  return (ctx) => {
    const rank = outRank(ctx);
    const align = (i: number): ((t: tf.Tensor) => tf.Tensor) | tf.Tensor => {
      const v = ctx.input(i)!;
      const r = v.shape.length;
      if (v.data) {
        const full = rank === 4 && r < 4 ? [...Array(4 - r).fill(1), ...(v.shape as number[])] : (v.shape as number[]);
        const laid = rank === 4 ? transposeConst({ dtype: 'float32', shape: full, data: v.data }, NCHW_TO_NHWC) : { shape: full, data: v.data };
        return ctx.own(tf.tensor(laid.data as Float32Array, laid.shape as number[], 'float32'));
      }
      if (rank !== 4 || r === 4) return (t) => t;
      return (t) => tf.transpose(tf.reshape(t, [...Array(4 - r).fill(1), ...t.shape]), NCHW_TO_NHWC as unknown as number[]);
    };
    const [a, b] = [align(0), align(1)];
    const get = (f: typeof a, t: tf.Tensor | undefined) => (f instanceof tf.Tensor ? f : f(t!));
    return ([x, y]) => fn(get(a, x), get(b, y));
  };
}

const unary = (fn: (x: tf.Tensor, node: Node) => tf.Tensor): Factory => (ctx) => ([x]) => fn(x!, ctx.node);

function maxPoolKernel(ctx: PrepareContext): Kernel {
  const w = window2d(ctx.node);
  if (w.dilations.some((d) => d !== 1)) unsupported(ctx, 'dilated pooling');
  return ([x]) => {
    const extra = ceilExtra(ctx, x!, w);
    const [t, l, b, r] = w.pads;
    const p = tf.pad(x as tf.Tensor4D, [[0, 0], [t, b + extra[0]], [l, r + extra[1]], [0, 0]], -3.4e38);
    return evenStrides(w.strides, (strides) => tf.maxPool(p, w.kernel, strides, 'valid'));
  };
}

/** Extra end padding so a floor-mode window count equals ceil mode's. */
function ceilExtra(ctx: PrepareContext, x: tf.Tensor, w: Window2d): [number, number] {
  if (intAttr(ctx.node, 'ceilMode', 0) !== 1) return [0, 0];
  return [0, 1].map((k) => {
    const span = x.shape[1 + k]! + w.pads[k] + w.pads[k + 2] - w.kernel[k];
    return (Math.ceil(span / w.strides[k]) - Math.floor(span / w.strides[k])) * w.strides[k];
  }) as [number, number];
}

function averagePoolKernel(ctx: PrepareContext): Kernel {
  const w = window2d(ctx.node);
  if (intAttr(ctx.node, 'ceilMode', 0) === 1) unsupported(ctx, 'ceil_mode average pooling');
  const [t, l, b, r] = w.pads;
  const pairs: [number, number][] = [[0, 0], [t, b], [l, r], [0, 0]];
  const includePad = intAttr(ctx.node, 'countIncludePad', 0) === 1;
  const pool = (x: tf.Tensor4D) => evenStrides(w.strides, (strides) => tf.avgPool(x, w.kernel, strides, 'valid'));
  if (w.pads.every((p) => p === 0)) return ([x]) => pool(x as tf.Tensor4D);
  return ([x]) => {
    const sum = pool(tf.pad(x as tf.Tensor4D, pairs));
    if (includePad) return sum;
    // Mean over real elements only: divide by the fraction of each window that is not padding.
    const ones = tf.ones([1, x!.shape[1]!, x!.shape[2]!, 1]) as tf.Tensor4D;
    return tf.div(sum, pool(tf.pad(ones, pairs)));
  };
}

/** Runs an NCHW-semantics function on rank-4 operands by moving them to NCHW and the result back. */
function viaNchw(fn: (x: tf.Tensor, ctx: PrepareContext) => tf.Tensor): Factory {
  return (ctx) => {
    const [inR, outR] = [rankOf(ctx, 0), outRank(ctx)];
    return ([x]) => {
      const nchw = inR === 4 ? tf.transpose(x!, NHWC_TO_NCHW as unknown as number[]) : x!;
      const y = fn(nchw, ctx);
      return outR === 4 ? tf.transpose(y, NCHW_TO_NHWC as unknown as number[]) : y;
    };
  };
}

/** Output shape of a reshape-like node at run time: a symbol shared with the input's batch dim takes the batch, one other symbol is −1. */
const reshapeTo = (x: tf.Tensor, ctx: PrepareContext): tf.Tensor => {
  const shape = ctx.graph.values.get(ctx.node.outputs[0])!.shape;
  const batch = ctx.input(0)!.shape[0];
  const dims = shape.map((d) => (typeof d === 'number' ? d : d === batch ? x.shape[0] : -1));
  if (dims.filter((d) => d === -1).length > 1) unsupported(ctx, `output shape [${shape}] with several unknown dims`);
  return tf.reshape(x, dims);
};

const axisFor = (axis: number, rank: number): number => {
  const a = axis < 0 ? axis + rank : axis;
  return rank === 4 ? nhwcAxis(a) : a;
};

function sliceKernel(ctx: PrepareContext): Kernel {
  const ints = (i: number) => (ctx.input(i) ? toNumbers(ctx.constant(i, 'slice parameter').data!) : undefined);
  const [starts, ends, axes, steps] = [ints(1)!, ints(2)!, ints(3), ints(4)];
  return viaNchw((x) => {
    const rank = x.shape.length;
    const begin = new Array(rank).fill(0);
    const end = [...x.shape] as number[];
    const stride = new Array(rank).fill(1);
    (axes ?? starts.map((_, i) => i)).forEach((a0, i) => {
      const a = a0 < 0 ? a0 + rank : a0;
      const dim = x.shape[a]!;
      const st = steps?.[i] ?? 1;
      const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v < 0 ? v + dim : v, lo), hi);
      begin[a] = st > 0 ? clamp(starts[i], 0, dim) : clamp(starts[i], 0, dim - 1);
      end[a] = st > 0 ? clamp(ends[i], 0, dim) : ends[i] < -dim ? -dim - 1 : clamp(ends[i], -1, dim - 1);
      stride[a] = st;
    });
    return tf.stridedSlice(x, begin, end, stride);
  })(ctx);
}

/**
 * Resize of H and W, its output size from the input's at run time (a model with dynamic H×W): bilinear in tfjs;
 * nearest as a gather of onnxruntime's source rows and columns (nearestIndices), in any of its coordinate modes.
 */
function resizeKernel(ctx: PrepareContext): Kernel {
  const mode = stringAttr(ctx.node, 'mode', 'nearest');
  const ct = stringAttr(ctx.node, 'coordinateTransformationMode', 'half_pixel');
  const numbers = (i: number) => (ctx.input(i) ? toNumbers(ctx.constant(i, 'resize parameter').data!) : undefined);
  const [scales, sizes] = [numbers(2), numbers(3)];
  // NHWC: input H and W at axes 1 and 2; the scales and sizes are NCHW's, H and W at 2 and 3.
  const outSize = (x: tf.Tensor): [number, number] => [resizedDim(x.shape[1]!, 2, scales, sizes), resizedDim(x.shape[2]!, 3, scales, sizes)];
  if (mode === 'nearest') {
    const { coordinates, nearest } = nearestAttributes(ctx.node);
    return ([x]) => {
      const [h, w] = outSize(x!);
      const rows = tf.tensor1d(nearestIndices(x!.shape[1]!, h, coordinates, nearest), 'int32');
      const cols = tf.tensor1d(nearestIndices(x!.shape[2]!, w, coordinates, nearest), 'int32');
      const y = tf.tidy(() => tf.gather(tf.gather(x!, rows, 1), cols, 2));
      rows.dispose();
      cols.dispose();
      return y;
    };
  }
  const alignCorners = ct === 'align_corners';
  const halfPixel = ct === 'half_pixel' || ct === 'pytorch_half_pixel';
  if (mode !== 'linear' || (!alignCorners && !halfPixel && ct !== 'asymmetric')) unsupported(ctx, `mode '${mode}' with '${ct}' coordinates`);
  return ([x]) => tf.image.resizeBilinear(x as tf.Tensor4D, outSize(x!), alignCorners, halfPixel);
}

/** LRN across channels (the last NHWC axis): squares summed over `size` neighbouring channels as shifted slices of the padded squares. */
function lrnKernel(ctx: PrepareContext): Kernel {
  const size = intAttr(ctx.node, 'size');
  const [alpha, beta, bias] = ['alpha', 'beta', 'bias'].map((k) => Number(ctx.node.attrs[k]));
  const before = Math.floor((size - 1) / 2);
  return ([x]) => {
    const c = x!.shape[3]!;
    const squares = tf.pad(tf.square(x!), [[0, 0], [0, 0], [0, 0], [before, size - 1 - before]]);
    let sum = tf.slice(squares, [0, 0, 0, 0], [-1, -1, -1, c]);
    for (let k = 1; k < size; k++) sum = tf.add(sum, tf.slice(squares, [0, 0, 0, k], [-1, -1, -1, c]));
    return tf.div(x!, tf.pow(tf.add(tf.mul(sum, alpha / size), bias), beta));
  };
}

function gatherKernel(ctx: PrepareContext): Kernel {
  const axis = checkedAxis(ctx.node, intAttr(ctx.node, 'axis', 0), rankOf(ctx, 0));
  const given = ctx.constant(1, 'indices');
  const indices = ctx.own(tf.tensor(gatherIndices(ctx.node, given, ctx.input(0)!.shape[axis]), given.shape as number[], 'int32'));
  return viaNchw((x) => tf.gather(x, indices, axis))(ctx);
}

const reduceKernel = (fn: (x: tf.Tensor, axes: number[], keepDims: boolean) => tf.Tensor): Factory => (ctx) => {
  const axes = reduceAxes(ctx.node, rankOf(ctx, 0));
  const keepDims = intAttr(ctx.node, 'keepdims', 1) === 1;
  return viaNchw((x) => fn(x, axes, keepDims))(ctx);
};

/** Expand: broadcast to the output's shape; a symbolic output dim (the batch) is the input's at run time. */
const expandKernel: Factory = (ctx) => {
  const out = ctx.graph.values.get(ctx.node.outputs[0])!.shape;
  return viaNchw((x) => tf.broadcastTo(x, out.map((d, i) => (typeof d === 'number' ? d : x.shape[i - (out.length - x.rank)]!))))(ctx);
};

/** Pad mode 'edge' (tfjs has none): along each axis, the first and last slice repeated before and after. */
function edgePad(x: tf.Tensor, pairs: readonly [number, number][]): tf.Tensor {
  return pairs.reduce((t, [before, after], axis) => {
    if (before === 0 && after === 0) return t;
    const n = t.shape[axis]!;
    const repeated = (start: number, times: number) => {
      const begin = t.shape.map((_, k) => (k === axis ? start : 0));
      const size = t.shape.map((d, k) => (k === axis ? 1 : d!));
      return tf.tile(tf.slice(t, begin, size), t.shape.map((_, k) => (k === axis ? times : 1)));
    };
    return tf.concat([...(before ? [repeated(0, before)] : []), t, ...(after ? [repeated(n - 1, after)] : [])], axis);
  }, x);
}

/** IR op → float kernel on TensorFlow.js. The one table of what the float executor runs. */
export const TFJS_KERNELS: ReadonlyMap<string, Factory> = new Map<string, Factory>([
  ['Conv', conv],
  ['ConvTranspose', convTranspose],
  ['Gemm', gemm],
  ['MatMul', binary((a, b) => tf.matMul(a, b))],
  ['Add', binary(tf.add)],
  ['Sub', binary(tf.sub)],
  ['Mul', binary(tf.mul)],
  ['Div', binary(tf.div)],
  ['Max', binary(tf.maximum)],
  ['Min', binary(tf.minimum)],
  // relu(x) + slope·min(x, 0): exactly x for x ≥ 0 and slope·x below, with the slope broadcast like any operand.
  ['PRelu', binary((x, slope) => tf.add(tf.relu(x), tf.mul(slope, tf.minimum(x, 0))))],
  ['Relu', unary((x) => tf.relu(x))],
  ['Tanh', unary((x) => tf.tanh(x))],
  ['Floor', unary((x) => tf.floor(x))],
  ['Ceil', unary((x) => tf.ceil(x))],
  ['Sqrt', unary((x) => tf.sqrt(x))],
  ['Neg', unary((x) => tf.neg(x))],
  ['Abs', unary((x) => tf.abs(x))],
  ['LeakyRelu', unary((x, n) => tf.leakyRelu(x, Number(n.attrs.alpha ?? 0.01)))],
  ['Elu', unary((x, n) => tf.add(tf.relu(x), tf.mul(tf.sub(tf.exp(tf.minimum(x, 0)), 1), Number(n.attrs.alpha ?? 1))))],
  ['LRN', lrnKernel],
  ['Sigmoid', unary((x) => tf.sigmoid(x))],
  ['Identity', unary((x) => tf.clone(x))],
  ['Clip', unary((x, n) => tf.minimum(tf.maximum(x, Number(n.attrs.min)), Number(n.attrs.max)))],
  ['HardSigmoid', unary((x, n) => tf.clipByValue(tf.add(tf.mul(x, Number(n.attrs.alpha ?? 0.2)), Number(n.attrs.beta ?? 0.5)), 0, 1))],
  ['HardSwish', unary((x) => tf.mul(x, tf.div(tf.relu6(tf.add(x, 3)), 6)))],
  ['MaxPool', maxPoolKernel],
  ['AveragePool', averagePoolKernel],
  ['GlobalAveragePool', unary((x) => tf.mean(x, [1, 2], true))],
  ['BatchNormalization', (ctx) => {
    const [scale, bias, mean, variance] = [1, 2, 3, 4].map((i) => ctx.own(constTensor(ctx.constant(i, 'BatchNormalization parameter'))));
    const eps = Number(ctx.node.attrs.epsilon ?? 1e-5);
    return ([x]) => tf.batchNorm(x!, mean, variance, bias, scale, eps);
  }],
  ['Softmax', (ctx) => {
    const rank = rankOf(ctx, 0);
    const axis = axisFor(intAttr(ctx.node, 'axis', -1), rank);
    return ([x]) => (axis === rank - 1 ? tf.softmax(x!) : tf.div(tf.exp(tf.sub(x!, tf.max(x!, axis, true))), tf.sum(tf.exp(tf.sub(x!, tf.max(x!, axis, true))), axis, true)));
  }],
  ['Concat', (ctx) => {
    const axis = axisFor(intAttr(ctx.node, 'axis'), outRank(ctx));
    return (xs) => tf.concat(xs as tf.Tensor[], axis);
  }],
  ['Pad', (ctx) => {
    const mode = stringAttr(ctx.node, 'mode', 'constant');
    const pads = intsAttr(ctx.node, 'pads');
    const rank = rankOf(ctx, 0);
    const pairs = rank === 4 ? nhwcPadPairs(pads) : Array.from({ length: rank }, (_, i) => [pads[i], pads[i + rank]] as [number, number]);
    const value = Number(ctx.node.attrs.value ?? 0);
    if (mode === 'constant') return ([x]) => tf.pad(x!, pairs, value);
    if (mode === 'reflect') return ([x]) => tf.mirrorPad(x!, pairs, 'reflect');
    if (mode === 'edge') return ([x]) => edgePad(x!, pairs);
    return unsupported(ctx, `pad mode '${mode}'`);
  }],
  ['Flatten', viaNchw(reshapeTo)],
  ['Reshape', viaNchw(reshapeTo)],
  ['Squeeze', viaNchw(reshapeTo)],
  ['Unsqueeze', viaNchw(reshapeTo)],
  ['Transpose', viaNchw((x, ctx) => tf.transpose(x, [...intsAttr(ctx.node, 'perm', x.shape.map((_, i) => x.shape.length - 1 - i))]))],
  ['Slice', sliceKernel],
  ['Gather', gatherKernel],
  ['ReduceMean', reduceKernel((x, axes, keep) => tf.mean(x, axes, keep))],
  ['ReduceMax', reduceKernel((x, axes, keep) => tf.max(x, axes, keep))],
  ['ReduceSum', reduceKernel((x, axes, keep) => tf.sum(x, axes, keep))],
  ['Expand', expandKernel],
  ['Tile', (ctx) => {
    const repeats = tileRepeats(ctx.node, ctx.input(0)!, ctx.constant(1, 'repeats'));
    return viaNchw((x) => tf.tile(x, repeats))(ctx);
  }],
  ['Resize', resizeKernel],
]);
