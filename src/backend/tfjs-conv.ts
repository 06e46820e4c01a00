// An ONNX-semantics convolution (pads, strides, dilations, groups) composed of TensorFlow.js ops on NHWC tensors,
// so tf.grads differentiates it. tfjs-wasm has no Conv2DBackpropFilter and no depthwise backprops; there the
// convolution carries a custom gradient written with forward kernels (DESIGN.md), checked against the cpu autodiff.
import { tf } from '../exec/tfjs-runtime.js';
import { fail } from '../errors.js';
import type { ConvGeometry } from './conv-geometry.js';

type T4 = tf.Tensor4D;

/** Whether the active tfjs engine lacks the filter / depthwise backprop kernels. */
export const needsCustomConvGradient = (engine: string): boolean => engine === 'wasm';

/** The HWIO kernel with (d−1) zeros between taps, as a product with a 0/1 matrix so autodiff sees it. */
function dilateKernel(w: T4, g: ConvGeometry): T4 {
  const [dh, dw] = g.p.dilations;
  if (dh === 1 && dw === 1) return w;
  const khd = dh * (g.kh - 1) + 1;
  const kwd = dw * (g.kw - 1) + 1;
  const placement = new Float32Array(khd * kwd * g.kh * g.kw);
  for (let i = 0; i < g.kh; i++) for (let j = 0; j < g.kw; j++) placement[(i * dh * kwd + j * dw) * g.kh * g.kw + i * g.kw + j] = 1;
  const [, , ci, co] = w.shape;
  const flat = tf.matMul(tf.tensor2d(placement, [khd * kwd, g.kh * g.kw]), w.reshape([g.kh * g.kw, ci * co]));
  return flat.reshape([khd, kwd, ci, co]);
}

/** ∂L/∂w of a valid stride-s conv as a forward conv: batch ↔ channel swapped, dilation s, cropped to the kernel. */
function filterGradient(xp: T4, dy: T4, kh: number, kw: number, stride: number): T4 {
  const g = tf.conv2d(xp.transpose([3, 1, 2, 0]) as T4, dy.transpose([1, 2, 0, 3]) as T4, 1, 'valid', 'NHWC', stride);
  return g.slice([0, 0, 0, 0], [-1, kh, kw, -1]).transpose([1, 2, 0, 3]);
}

/** dy with (s−1) zeros between rows and columns: the input of a stride-1 conv equivalent to a transposed stride-s conv. */
function zeroDilate(dy: T4, s: number): T4 {
  if (s === 1) return dy;
  const [n, ho, wo, c] = dy.shape;
  const spread = dy.reshape([n, ho, 1, wo, 1, c]).pad([[0, 0], [0, 0], [0, s - 1], [0, 0], [0, s - 1], [0, 0]]);
  return spread.reshape([n, ho * s, wo * s, c]).slice([0, 0, 0, 0], [-1, (ho - 1) * s + 1, (wo - 1) * s + 1, -1]) as T4;
}

/** A two-operand conv op (x, kernel) whose gradient is the given rule instead of the engine's backprop kernels. */
function withGradient(value: (x: T4, k: T4) => T4, gradient: (dy: T4, x: T4, k: T4) => [T4, T4]) {
  return tf.customGrad((x, k, save) => {
    (save as tf.GradSaveFunc)([x as T4, k as T4]);
    return { value: value(x as T4, k as T4), gradFunc: (dy: T4, [sx, sk]: tf.Tensor[]) => gradient(dy, sx as T4, sk as T4) };
  });
}

/** Valid, stride-s depthwise conv (multiplier 1) whose gradients are forward depthwise convs. */
const depthwiseWithForwardGradients = (stride: number) =>
  withGradient(
    (x, k) => tf.depthwiseConv2d(x, k, stride, 'valid'),
    (dy, x, k) => {
      const [n, hp, wp, c] = x.shape;
      const [kh, kw] = k.shape;
      // ∂x: full correlation of the zero-dilated dy with the flipped kernel, zero rows where no window reached.
      const dd = zeroDilate(dy, stride);
      const full = tf.depthwiseConv2d(dd.pad<T4>([[0, 0], [kh - 1, kh - 1], [kw - 1, kw - 1], [0, 0]]), tf.reverse(k, [0, 1]), 1, 'valid');
      const dx = full.pad<T4>([[0, 0], [0, hp - full.shape[1]], [0, wp - full.shape[2]], [0, 0]]);
      // ∂w: every (sample, channel) pair a channel of one depthwise conv whose kernel is that channel's dy.
      const xs = x.transpose([1, 2, 0, 3]).reshape<T4>([1, hp, wp, n * c]);
      const ks = dy.transpose([1, 2, 0, 3]).reshape<T4>([dy.shape[1], dy.shape[2], n * c, 1]);
      const per = tf.depthwiseConv2d(xs, ks, 1, 'valid', 'NHWC', stride).slice([0, 0, 0, 0], [1, kh, kw, -1]);
      return [dx, per.reshape([kh, kw, n, c]).sum(2).reshape<T4>([kh, kw, c, 1])];
    },
  );

/** Valid, stride-s dense conv whose filter gradient is a forward conv (Conv2DBackpropInput exists everywhere). */
const denseWithForwardFilterGradient = (stride: number) =>
  withGradient(
    (x, k) => tf.conv2d(x, k, stride, 'valid'),
    (dy, x, k) => [tf.conv2dTranspose(dy, k, x.shape, stride, 'valid'), filterGradient(x, dy, k.shape[0], k.shape[1], stride)],
  );

/**
 * y = conv(x, w) for x NHWC and w HWIO [kh, kw, Cin/group, Cout]; pads, dilations and groups as ONNX states them.
 * `customGradient` selects the forward-kernel gradients for engines without backprop-filter kernels.
 */
export function convNhwc(x: T4, w: T4, g: ConvGeometry, customGradient: boolean): T4 {
  const [pt, pl, pb, pr] = g.p.pads;
  const [sh, sw] = g.p.strides;
  if (sh !== sw) fail('UNSUPPORTED_ATTR', `tfjs conv2d: strides [${g.p.strides}] differ; the tfjs backend supports equal strides only`);
  const xp = pt + pl + pb + pr > 0 ? x.pad<T4>([[0, 0], [pt, pb], [pl, pr], [0, 0]]) : x;
  const k = dilateKernel(w, g);
  const group = g.p.group;
  const dense = (xi: T4, ki: T4): T4 => (customGradient ? (denseWithForwardFilterGradient(sh)(xi, ki) as T4) : tf.conv2d(xi, ki, sh, 'valid'));
  if (group === 1) return dense(xp, k);
  if (group === g.cin && g.cout === g.cin) {
    const kd = k.reshape([k.shape[0], k.shape[1], g.cin, 1]) as T4;
    return customGradient ? (depthwiseWithForwardGradients(sh)(xp, kd) as T4) : tf.depthwiseConv2d(xp, kd, sh, 'valid');
  }
  // Any other grouping: one dense conv per group, joined along channels.
  const ks = tf.split(k, group, 3);
  return tf.concat(tf.split(xp, group, 3).map((xi, i) => dense(xi as T4, ks[i] as T4)), 3);
}
