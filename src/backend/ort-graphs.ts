// The ONNX graphs ort-cpu runs: one per (op, shapes, params). Each gradient's formulation was picked by timing the
// candidates in onnxruntime-node 1.30 (2 intra-op threads) at batch 32; ResNet-8's 64→64 3×3 conv at 8×8 unless said:
// - ∂L/∂x, stride 1: a Conv of ∂L/∂y with the flipped, in/out-swapped weight (1.8 ms; ConvTranspose 2.2 ms);
//   stride > 1: ConvTranspose (the flipped conv would run over a zero-dilated ∂L/∂y, 4× the work).
// - ∂L/∂w: im2col from strided Slices of the channel-major input, contracted over batch × pixels by GEMM (3.2 ms;
//   a Conv on transposed tensors 5.9 ms: its GEMM is only kh·kw wide; im2col by a one-hot grouped Conv + batched
//   MatMul 3.6 ms; im2col in TypeScript 5.9 ms before the GEMM). Large im2cols skip assembly (ASSEMBLED_IM2COL_LIMIT).
//   At stride > 1 and on images with many more pixels than output channels the contraction runs image by image
//   instead (denseWeightGradient). On the CPU a unit's forward 3×3 convs run in NCHWc blocks (runsNchwc).
//   Depthwise: one conv over the N·C planes with dy as the kernels, summed over the batch (2.6 ms on DS-CNN's
//   64-channel 3×3 layer at 25×5; the im2col formulation took 12.5 ms there, fastest of 40 runs each, interleaved).
// - ∂L/∂b: ReduceSum inside the same graph.
// Times are the fastest of 40 runs on a shared 2-core machine.
import type { Activation, UnitOp, UnitProgram, UnitQuantizer } from './backend.js';
import { convGeometry, isDepthwise, type ConvGeometry } from './conv-geometry.js';
import { FLOAT, NCHWC_DOMAIN, type OnnxGraphSpec, type OnnxNodeSpec } from './onnx-graph.js';

const convAttrs = (g: ConvGeometry) => ({
  kernel_shape: [g.kh, g.kw],
  strides: g.p.strides,
  pads: g.p.pads,
  dilations: g.p.dilations,
  group: g.p.group,
});

/** y = conv(x, w) [+ b]. */
export function convForwardGraph(g: ConvGeometry, withBias: boolean): OnnxGraphSpec {
  const inputs = [
    { name: 'x', shape: [g.n, g.cin, g.h, g.w] },
    { name: 'w', shape: [g.cout, g.cin / g.p.group, g.kh, g.kw] },
    ...(withBias ? [{ name: 'b', shape: [g.cout] }] : []),
  ];
  return { inputs, outputs: ['y'], nodes: [{ op: 'Conv', inputs: inputs.map((i) => i.name), outputs: ['y'], attrs: convAttrs(g) }] };
}

/**
 * What a CPU session runs beyond standard ONNX: depthwise weight gradients on the host (hostDepthwiseOps), and
 * onnxruntime's NCHWc convolutions (MLAS's direct kernels over channel blocks of `nchwcBlock`, 8 with AVX2, 16 with
 * AVX-512: ask the machine, see nchwcBlockSize in ort.ts).
 */
export interface CpuKernels {
  readonly nchwcBlock: number;
}

/** ReorderInput of 4 channels: its output has one channel block, so its channel count is the machine's block size. */
export function nchwcProbeGraph(): OnnxGraphSpec {
  return { inputs: [{ name: 'x', shape: [1, 4, 1, 1] }], outputs: ['y'], nodes: [{ op: 'ReorderInput', domain: NCHWC_DOMAIN, inputs: ['x'], outputs: ['y'] }] };
}

/**
 * Whether a forward conv runs as an NCHWc conv: dense, channels in whole blocks, a spatial kernel. ResNet-8's layer
 * steps, CPU ms, fastest of 40 interleaved: 3×3 16→16 at 32×32 6.5 → 5.7, 16→32 stride 2 3.6 → 3.2, 32→32 at 16×16
 * 4.9 → 4.3, 64→64 at 8×8 5.7 → 4.7; but 1×1 stride 2 0.60 → 0.67 (the reorders cost more than they save).
 */
const runsNchwc = (g: ConvGeometry, cpu: CpuKernels | undefined): cpu is CpuKernels =>
  cpu !== undefined && g.p.group === 1 && g.cin % cpu.nchwcBlock === 0 && g.cout % cpu.nchwcBlock === 0 && g.kh * g.kw > 1;

/**
 * y = conv(x, w) [+ b], then ReLU when `relu`, as onnxruntime's NCHWc conv: x reordered into channel blocks, w into
 * [O/B, C/B, kh, kw, B_in, B_out] blocks (in the graph: it changes every iteration), y reordered back.
 */
function nchwcConvNodes(g: ConvGeometry, io: { x: string; w: string; b?: string; y: string }, block: number, relu: boolean, c: Record<string, number[]>): OnnxNodeSpec[] {
  const t = `${io.y}_nchwc_`;
  c[`${t}w_blocks`] = [g.cout / block, block, g.cin / block, block, g.kh, g.kw];
  c[`${t}w_shape`] = [g.cout, g.cin, g.kh, g.kw];
  return [
    { op: 'ReorderInput', domain: NCHWC_DOMAIN, inputs: [io.x], outputs: [`${t}x`] },
    { op: 'Reshape', inputs: [io.w, `${t}w_blocks`], outputs: [`${t}w6`] },
    { op: 'Transpose', inputs: [`${t}w6`], outputs: [`${t}w6t`], attrs: { perm: [0, 2, 4, 5, 3, 1] } },
    { op: 'Reshape', inputs: [`${t}w6t`, `${t}w_shape`], outputs: [`${t}w`] },
    { op: 'Conv', domain: NCHWC_DOMAIN, inputs: [`${t}x`, `${t}w`, ...(io.b ? [io.b] : [])], outputs: [`${t}y`], attrs: { ...convAttrs(g), ...(relu ? { activation: 'Relu' } : {}) } },
    { op: 'ReorderOutput', domain: NCHWC_DOMAIN, inputs: [`${t}y`], outputs: [io.y], attrs: { channels: g.cout } },
  ];
}

function nchwcConvForwardGraph(g: ConvGeometry, withBias: boolean, block: number, relu: boolean): OnnxGraphSpec {
  const c: Record<string, number[]> = {};
  return { ...convForwardGraph(g, withBias), nodes: nchwcConvNodes(g, { x: 'x', w: 'w', ...(withBias ? { b: 'b' } : {}), y: 'y' }, block, relu, c), int64Constants: c };
}

/** The pads a stride-1 conv of ∂L/∂y with the flipped kernel needs to give back an H×W ∂L/∂x; undefined when one is negative. */
function flippedPads(g: ConvGeometry): number[] | undefined {
  const [pt, pl] = g.p.pads;
  const [dh, dw] = g.p.dilations;
  const top = dh * (g.kh - 1) - pt;
  const left = dw * (g.kw - 1) - pl;
  const pads = [top, left, g.h - g.ho + dh * (g.kh - 1) - top, g.w - g.wo + dw * (g.kw - 1) - left];
  return pads.every((v) => v >= 0) ? pads : undefined;
}

/** Nodes computing dx from dy and w; with `cpu`, the stride-1 conv of dy may run in NCHWc blocks. */
function inputGradientNodes(g: ConvGeometry, c: Record<string, number[]>, cpu?: CpuKernels): OnnxNodeSpec[] {
  const group = g.p.group;
  const cig = g.cin / group;
  const og = g.cout / group;
  const pads = flippedPads(g);
  if (g.p.strides[0] === 1 && g.p.strides[1] === 1 && pads) {
    const flipped = convGeometry(shapeOnly([g.n, g.cout, g.ho, g.wo]), shapeOnly([g.cin, og, g.kh, g.kw]), { strides: [1, 1], pads: pads as [number, number, number, number], dilations: g.p.dilations, group });
    // w [G·Og, Cig, kh, kw] → [G·Cig, Og, kh, kw], reversed in both spatial axes.
    c.w_groups = [group, og, cig, g.kh, g.kw];
    c.w_swapped = [g.cin, og, g.kh, g.kw];
    c.flip_starts = [-1, -1];
    c.flip_ends = [-(2 ** 53), -(2 ** 53)];
    c.flip_axes = [2, 3];
    c.flip_steps = [-1, -1];
    return [
      { op: 'Reshape', inputs: ['w', 'w_groups'], outputs: ['w5'] },
      { op: 'Transpose', inputs: ['w5'], outputs: ['w5t'], attrs: { perm: [0, 2, 1, 3, 4] } },
      { op: 'Reshape', inputs: ['w5t', 'w_swapped'], outputs: ['wt'] },
      { op: 'Slice', inputs: ['wt', 'flip_starts', 'flip_ends', 'flip_axes', 'flip_steps'], outputs: ['wf'] },
      ...(runsNchwc(flipped, cpu)
        ? nchwcConvNodes(flipped, { x: 'dy', w: 'wf', y: 'dx' }, cpu.nchwcBlock, false, c)
        : [{ op: 'Conv', inputs: ['dy', 'wf'], outputs: ['dx'], attrs: convAttrs(flipped) }]),
    ];
  }
  const [pt, pl, pb, pr] = g.p.pads;
  const [sh, sw] = g.p.strides;
  const [dh, dw] = g.p.dilations;
  const outputPadding = [g.h - ((g.ho - 1) * sh + dh * (g.kh - 1) + 1 - pt - pb), g.w - ((g.wo - 1) * sw + dw * (g.kw - 1) + 1 - pl - pr)];
  return [{ op: 'ConvTranspose', inputs: ['dy', 'w'], outputs: ['dx'], attrs: { ...convAttrs(g), output_padding: outputPadding } }];
}

/** dy [N, O, Ho, Wo] → dy2 [O, N·Ho·Wo]: whole pixel rows move, a block copy. */
function outputGradientRows(g: ConvGeometry, c: Record<string, number[]>): OnnxNodeSpec[] {
  c.dy_images = [g.n, g.cout, g.ho * g.wo];
  c.dy_rows = [g.cout, g.n * g.ho * g.wo];
  return [
    { op: 'Reshape', inputs: ['dy', 'dy_images'], outputs: ['dy3'] },
    { op: 'Transpose', inputs: ['dy3'], outputs: ['dyt'], attrs: { perm: [1, 0, 2] } },
    { op: 'Reshape', inputs: ['dyt', 'dy_rows'], outputs: ['dy2'] },
  ];
}

/** dw [O, Cig, kh, kw] from cols [G, Cig·K, N·Ho·Wo] and dy: one group is a single Gemm, several a batched MatMul. */
function contractWithOutputGradient(g: ConvGeometry, c: Record<string, number[]>): OnnxNodeSpec[] {
  const group = g.p.group;
  const og = g.cout / group;
  const pixels = g.n * g.ho * g.wo;
  if (group === 1) {
    c.cols_rows = [g.cin * g.kh * g.kw, pixels];
    return [
      ...outputGradientRows(g, c),
      { op: 'Reshape', inputs: ['cols', 'cols_rows'], outputs: ['cols2'] },
      { op: 'Gemm', inputs: ['dy2', 'cols2'], outputs: ['dw2'], attrs: { transB: 1 } },
      { op: 'Reshape', inputs: ['dw2', 'dw_shape'], outputs: ['dw'] },
    ];
  }
  c.dy_groups = [g.n, group, og, g.ho * g.wo];
  c.dy_cols = [group, pixels, og];
  return [
    { op: 'Reshape', inputs: ['dy', 'dy_groups'], outputs: ['dy4'] },
    { op: 'Transpose', inputs: ['dy4'], outputs: ['dy4t'], attrs: { perm: [1, 0, 3, 2] } },
    { op: 'Reshape', inputs: ['dy4t', 'dy_cols'], outputs: ['dyc'] },
    { op: 'MatMul', inputs: ['cols', 'dyc'], outputs: ['dwt'] },
    { op: 'Transpose', inputs: ['dwt'], outputs: ['dw3'], attrs: { perm: [0, 2, 1] } },
    { op: 'Reshape', inputs: ['dw3', 'dw_shape'], outputs: ['dw'] },
  ];
}

/** im2col taps: each tap a strided 2-D window of the padded `input` (axes 2 and 3), [Cin, N, Ho, Wo] of the transposed input or [N, Cin, Ho, Wo] of x. */
interface Im2col {
  readonly nodes: OnnxNodeSpec[];
  readonly taps: string[];
}

function im2colTaps(g: ConvGeometry, c: Record<string, number[]>, input: string): Im2col {
  const [pt, pl, pb, pr] = g.p.pads;
  const [sh, sw] = g.p.strides;
  const [dh, dw] = g.p.dilations;
  const padded = pt + pl + pb + pr > 0 ? 'xp' : input;
  // A 1×1 stride-1 unpadded conv's only window is the whole input: the transposed input is im2col already.
  if (g.kh * g.kw === 1 && sh === 1 && sw === 1 && padded === input) return { nodes: [], taps: [input] };
  const nodes: OnnxNodeSpec[] = [];
  if (padded === 'xp') {
    c.x_pads = [0, 0, pt, pl, 0, 0, pb, pr];
    nodes.push({ op: 'Pad', inputs: [input, 'x_pads'], outputs: ['xp'] });
  }
  c.window_axes = [2, 3];
  c.window_steps = [sh, sw];
  const taps: string[] = [];
  for (let i = 0; i < g.kh; i++)
    for (let j = 0; j < g.kw; j++) {
      const t = `${i}_${j}`;
      c[`start_${t}`] = [i * dh, j * dw];
      c[`end_${t}`] = [i * dh + (g.ho - 1) * sh + 1, j * dw + (g.wo - 1) * sw + 1];
      nodes.push({ op: 'Slice', inputs: [padded, `start_${t}`, `end_${t}`, 'window_axes', 'window_steps'], outputs: [`tap_${t}`] });
      taps.push(`tap_${t}`);
    }
  return { nodes, taps };
}

/**
 * Depthwise (one input and one output channel per group): dw[c] = Σ_n corr(x[n, c], dy[n, c]) is itself a depthwise
 * conv over the N·C planes, x as the input and dy as the kernel (stride and dilation swap roles), summed over n.
 * No transposes: both reshapes are views of NCHW.
 */
function depthwiseWeightGradientNodes(g: ConvGeometry, c: Record<string, number[]>): OnnxNodeSpec[] {
  const planes = g.n * g.cin;
  const [pt, pl, pb, pr] = g.p.pads;
  const [sh, sw] = g.p.strides;
  const [dh, dw] = g.p.dilations;
  // The correlation's extent is at least the kernel's; a stride that does not divide the input leaves extra rows.
  const rows = Math.floor((g.h + pt + pb - ((g.ho - 1) * sh + 1)) / dh) + 1;
  const cols = Math.floor((g.w + pl + pr - ((g.wo - 1) * sw + 1)) / dw) + 1;
  c.x_planes = [1, planes, g.h, g.w];
  c.dy_kernels = [planes, 1, g.ho, g.wo];
  c.per_image = [g.n, g.cin, rows, cols];
  c.kernel_end = [g.kh, g.kw];
  c.kernel_start = [0, 0];
  c.kernel_axes = [2, 3];
  c.batch_axis = [0];
  c.dw_shape = [g.cout, 1, g.kh, g.kw];
  return [
    { op: 'Reshape', inputs: ['x', 'x_planes'], outputs: ['xq'] },
    { op: 'Reshape', inputs: ['dy', 'dy_kernels'], outputs: ['dyk'] },
    { op: 'Conv', inputs: ['xq', 'dyk'], outputs: ['corr'], attrs: { kernel_shape: [g.ho, g.wo], strides: [dh, dw], dilations: [sh, sw], pads: g.p.pads, group: planes } },
    { op: 'Reshape', inputs: ['corr', 'per_image'], outputs: ['corr4'] },
    { op: 'Slice', inputs: ['corr4', 'kernel_start', 'kernel_end', 'kernel_axes'], outputs: ['corr_k'] },
    { op: 'ReduceSum', inputs: ['corr_k', 'batch_axis'], outputs: ['dw3'], attrs: { keepdims: 0 } },
    { op: 'Reshape', inputs: ['dw3', 'dw_shape'], outputs: ['dw'] },
  ];
}

/**
 * Above this many values (8 MiB) an assembled im2col matrix no longer stays in cache and the Concat that builds it
 * costs a pass through memory; one GEMM per tap skips it. Measured per ONNX node (fastest of 30 runs, dense 3×3 at
 * batch 32): 64 ch at 8×8 (1.2 M values) 3.0 ms assembled vs 4.0 ms per tap; 32 ch at 16×16 (2.4 M) 5.6 vs 4.1;
 * 16 ch at 32×32 (4.7 M) 7.4 vs 4.3.
 */
export const ASSEMBLED_IM2COL_LIMIT = 2 ** 21;

/** One group: dw[:, :, i, j] = dy [O, N·L] · tap_ijᵀ for each tap, so no im2col matrix is ever assembled. */
function perTapGemmNodes(g: ConvGeometry, c: Record<string, number[]>, taps: readonly string[]): OnnxNodeSpec[] {
  c.tap_rows = [g.cin, g.n * g.ho * g.wo];
  c.tap_last = [2];
  c.dw_shape = [g.cout, g.cin, g.kh, g.kw];
  const nodes = outputGradientRows(g, c);
  for (const t of taps)
    nodes.push(
      { op: 'Reshape', inputs: [t, 'tap_rows'], outputs: [`${t}_rows`] },
      { op: 'Gemm', inputs: ['dy2', `${t}_rows`], outputs: [`${t}_dw`], attrs: { transB: 1 } },
      { op: 'Unsqueeze', inputs: [`${t}_dw`, 'tap_last'], outputs: [`${t}_dw3`] },
    );
  if (taps.length === 1) return [...nodes, { op: 'Reshape', inputs: [`${taps[0]}_dw3`, 'dw_shape'], outputs: ['dw'] }];
  return [
    ...nodes,
    { op: 'Concat', inputs: taps.map((t) => `${t}_dw3`), outputs: ['dw_taps'], attrs: { axis: 2 } },
    { op: 'Reshape', inputs: ['dw_taps', 'dw_shape'], outputs: ['dw'] },
  ];
}

/**
 * How a dense conv's ∂L/∂w is formed. Per image (one-hot im2col or per-tap MatMul) where the image has ≥ 8× more
 * pixels than the conv has output channels, so the per-image partial products (C·K × O each, summed by batchSumNodes)
 * are small beside the columns, and at stride > 1, where each strided tap is a strided Slice; the MatMul per tap once
 * the channels fill its rows (C·K ≥ 64). Otherwise taps over the whole batch (weightGradientNodes). ResNet-8's layer
 * steps, CPU ms, fastest of 40–60 interleaved, two or three rounds: Conv_0 (3→16, 32×32) 2.1 → 1.8 one-hot (2.4
 * per-tap MatMul), Conv_2 and Conv_4 (16→16, 32×32) 6.7 → 5.8 per-tap MatMul (6.6 one-hot), Conv_9 (32→32, 16×16)
 * 4.25 → 3.9 per-tap MatMul, Conv_7 (stride 2) 4.3 → 3.2 one-hot, Conv_13 (stride 2) 2.65 → 2.4 one-hot; on 64→64
 * at 8×8 (Conv_15) neither gains.
 */
function denseWeightGradient(g: ConvGeometry): 'one-hot' | 'tap-matmul' | 'batch-taps' {
  const k = g.kh * g.kw;
  if (g.p.strides.some((s) => s > 1)) return 'one-hot';
  // A 1×1 stride-1 conv's transposed input is its im2col already (im2colTaps): nothing to gain image by image.
  if (g.ho * g.wo < 8 * g.cout || k === 1) return 'batch-taps';
  return g.cin * k < 64 ? 'one-hot' : 'tap-matmul';
}

/**
 * `output` [...shape] = Σ over the leading (batch) axis of `input` [n, ...shape], as a row of ones times the images
 * flattened: onnxruntime's ReduceSum over the leading axis took 0.96 ms on ResNet-8 Conv_13's [32, 288, 64] partial
 * products, where the GEMM reads them once.
 */
function batchSumNodes(n: number, input: string, output: string, shape: readonly number[], c: Record<string, number[]>): OnnxNodeSpec[] {
  const size = shape.reduce((a, b) => a * b, 1);
  Object.assign(c, { [`${output}_ones`]: new Array<number>(n).fill(1), [`${output}_ones_row`]: [1, n], [`${output}_images`]: [n, size], [`${output}_shape`]: [...shape] });
  return [
    { op: 'Cast', inputs: [`${output}_ones`], outputs: [`${output}_ones_f`], attrs: { to: FLOAT } },
    { op: 'Reshape', inputs: [`${output}_ones_f`, `${output}_ones_row`], outputs: [`${output}_row`] },
    { op: 'Reshape', inputs: [input, `${output}_images`], outputs: [`${output}_flat`] },
    { op: 'MatMul', inputs: [`${output}_row`, `${output}_flat`], outputs: [`${output}_sum_row`] },
    { op: 'Reshape', inputs: [`${output}_sum_row`, `${output}_shape`], outputs: [output] },
  ];
}

/**
 * One group: im2col by a conv with one-hot kernels (one output channel per input channel and tap; ORT folds the
 * kernels at session start), then per image cols [C·K, Ho·Wo] · dyᵀ [Ho·Wo, O], summed over the batch.
 */
function oneHotIm2colNodes(g: ConvGeometry, c: Record<string, number[]>): OnnxNodeSpec[] {
  const k = g.kh * g.kw;
  const pixels = g.ho * g.wo;
  Object.assign(c, { taps_square: [k, k], taps_per_channel: [g.cin, 1], one_hot_shape: [g.cin * k, 1, g.kh, g.kw] });
  Object.assign(c, { cols_per_image: [g.n, g.cin * k, pixels], dy_per_image: [g.n, g.cout, pixels], dw_shape: [g.cout, g.cin, g.kh, g.kw] });
  return [
    { op: 'ConstantOfShape', inputs: ['taps_square'], outputs: ['zeros'] },
    { op: 'EyeLike', inputs: ['zeros'], outputs: ['eye'] },
    { op: 'Tile', inputs: ['eye', 'taps_per_channel'], outputs: ['eyes'] },
    { op: 'Reshape', inputs: ['eyes', 'one_hot_shape'], outputs: ['one_hot'] },
    { op: 'Conv', inputs: ['x', 'one_hot'], outputs: ['cols4'], attrs: { ...convAttrs(g), group: g.cin } },
    { op: 'Reshape', inputs: ['cols4', 'cols_per_image'], outputs: ['cols'] },
    { op: 'Reshape', inputs: ['dy', 'dy_per_image'], outputs: ['dy3'] },
    { op: 'Transpose', inputs: ['dy3'], outputs: ['dyt'], attrs: { perm: [0, 2, 1] } },
    { op: 'MatMul', inputs: ['cols', 'dyt'], outputs: ['dw_images'] },
    ...batchSumNodes(g.n, 'dw_images', 'dw_sum', [g.cin * k, g.cout], c),
    { op: 'Transpose', inputs: ['dw_sum'], outputs: ['dw2'], attrs: { perm: [1, 0] } },
    { op: 'Reshape', inputs: ['dw2', 'dw_shape'], outputs: ['dw'] },
  ];
}

/** One group: per tap, its window [N, C, Ho·Wo] of x times dyᵀ [N, Ho·Wo, O] image by image (MatMul batched over the images), summed over the batch. */
function tapMatMulNodes(g: ConvGeometry, c: Record<string, number[]>): OnnxNodeSpec[] {
  const pixels = g.ho * g.wo;
  Object.assign(c, { tap_image: [g.n, g.cin, pixels], tap_axis: [2], dy_per_image: [g.n, g.cout, pixels], dw_shape: [g.cout, g.cin, g.kh, g.kw] });
  const im2col = im2colTaps(g, c, 'x');
  const nodes: OnnxNodeSpec[] = [
    ...im2col.nodes,
    { op: 'Reshape', inputs: ['dy', 'dy_per_image'], outputs: ['dy3'] },
    { op: 'Transpose', inputs: ['dy3'], outputs: ['dyt'], attrs: { perm: [0, 2, 1] } },
  ];
  for (const t of im2col.taps)
    nodes.push(
      { op: 'Reshape', inputs: [t, 'tap_image'], outputs: [`${t}_image`] },
      { op: 'MatMul', inputs: [`${t}_image`, 'dyt'], outputs: [`${t}_dw3`] },
      { op: 'Unsqueeze', inputs: [`${t}_dw3`, 'tap_axis'], outputs: [`${t}_dw`] },
    );
  return [
    ...nodes,
    { op: 'Concat', inputs: im2col.taps.map((t) => `${t}_dw`), outputs: ['dw_images'], attrs: { axis: 2 } },
    ...batchSumNodes(g.n, 'dw_images', 'dw_sum', [g.cin, im2col.taps.length, g.cout], c),
    { op: 'Transpose', inputs: ['dw_sum'], outputs: ['dw3'], attrs: { perm: [2, 0, 1] } },
    { op: 'Reshape', inputs: ['dw3', 'dw_shape'], outputs: ['dw'] },
  ];
}

/** Nodes computing dw [O, Cig, kh, kw] from x and dy: channel-major im2col, then cols · dyᵀ per group. */
function weightGradientNodes(g: ConvGeometry, c: Record<string, number[]>): OnnxNodeSpec[] {
  if (isDepthwise(g)) return depthwiseWeightGradientNodes(g, c);
  const dense = g.p.group === 1 ? denseWeightGradient(g) : 'batch-taps';
  if (dense === 'one-hot') return oneHotIm2colNodes(g, c);
  if (dense === 'tap-matmul') return tapMatMulNodes(g, c);
  const cig = g.cin / g.p.group;
  const k = g.kh * g.kw;
  const im2col = im2colTaps(g, c, 'xt');
  const nodes: OnnxNodeSpec[] = [{ op: 'Transpose', inputs: ['x'], outputs: ['xt'], attrs: { perm: [1, 0, 2, 3] } }, ...im2col.nodes];
  if (g.p.group === 1 && g.cin * k * g.n * g.ho * g.wo > ASSEMBLED_IM2COL_LIMIT) return [...nodes, ...perTapGemmNodes(g, c, im2col.taps)];
  // [Cin, N, Ho, Wo] per tap → [Cin, K, N, Ho, Wo] = [G, Cig·K, N·Ho·Wo]
  let cols = im2col.taps[0];
  if (k > 1) {
    c.tap_axis = [1];
    nodes.push(...im2col.taps.map((t) => ({ op: 'Unsqueeze', inputs: [t, 'tap_axis'], outputs: [`${t}_u`] })));
    nodes.push({ op: 'Concat', inputs: im2col.taps.map((t) => `${t}_u`), outputs: ['cols5'], attrs: { axis: 1 } });
    cols = 'cols5';
  }
  c.cols_shape = [g.p.group, cig * k, g.n * g.ho * g.wo];
  c.dw_shape = [g.cout, cig, g.kh, g.kw];
  nodes.push({ op: 'Reshape', inputs: [cols, 'cols_shape'], outputs: ['cols'] }, ...contractWithOutputGradient(g, c));
  return nodes;
}

/** Outputs dw, and db when `biasGradient` (a unit's step learns no bias: it leaves out a pass over dy). */
export function convWeightGradientGraph(g: ConvGeometry, biasGradient = true): OnnxGraphSpec {
  const c: Record<string, number[]> = {};
  const nodes = weightGradientNodes(g, c);
  if (biasGradient) {
    c.bias_axes = [0, 2, 3];
    nodes.push({ op: 'ReduceSum', inputs: ['dy', 'bias_axes'], outputs: ['db'], attrs: { keepdims: 0 } });
  }
  return {
    inputs: [
      { name: 'x', shape: [g.n, g.cin, g.h, g.w] },
      { name: 'dy', shape: [g.n, g.cout, g.ho, g.wo] },
    ],
    outputs: biasGradient ? ['dw', 'db'] : ['dw'],
    nodes,
    int64Constants: c,
  };
}

/**
 * Outputs dx. A graph of its own: run inside the weight-gradient graph, the Conv / ConvTranspose made every later
 * node of that graph slower (11.5 ms for both in one graph on ResNet-8's 64→64 layer vs 3.1 + 1.8 ms apart).
 */
export function convInputGradientGraph(g: ConvGeometry, cpu?: CpuKernels): OnnxGraphSpec {
  const c: Record<string, number[]> = {};
  const nodes = inputGradientNodes(g, c, cpu);
  return {
    inputs: [
      { name: 'w', shape: [g.cout, g.cin / g.p.group, g.kh, g.kw] },
      { name: 'dy', shape: [g.n, g.cout, g.ho, g.wo] },
    ],
    outputs: ['dx'],
    nodes,
    int64Constants: c,
  };
}

/** y [M, N] = x [M, K] · w [N, K]ᵀ [+ b]. */
export function gemmForwardGraph(m: number, k: number, n: number, withBias: boolean): OnnxGraphSpec {
  const inputs = [{ name: 'x', shape: [m, k] }, { name: 'w', shape: [n, k] }, ...(withBias ? [{ name: 'b', shape: [n] }] : [])];
  return { inputs, outputs: ['y'], nodes: [{ op: 'Gemm', inputs: inputs.map((i) => i.name), outputs: ['y'], attrs: { transB: 1 } }] };
}

/** dw = dyᵀ · x, db = Σ_rows dy (when `biasGradient`), dx = dy · w (when `needInput`). */
export function gemmBackwardGraph(m: number, k: number, n: number, needInput: boolean, biasGradient = true): OnnxGraphSpec {
  return {
    inputs: [{ name: 'x', shape: [m, k] }, ...(needInput ? [{ name: 'w', shape: [n, k] }] : []), { name: 'dy', shape: [m, n] }],
    outputs: ['dw', ...(biasGradient ? ['db'] : []), ...(needInput ? ['dx'] : [])],
    nodes: [
      { op: 'Gemm', inputs: ['dy', 'x'], outputs: ['dw'], attrs: { transA: 1 } },
      ...(biasGradient ? [{ op: 'ReduceSum', inputs: ['dy', 'rows'], outputs: ['db'], attrs: { keepdims: 0 } }] : []),
      ...(needInput ? [{ op: 'MatMul', inputs: ['dy', 'w'], outputs: ['dx'] }] : []),
    ],
    int64Constants: biasGradient ? { rows: [0] } : {},
  };
}

/** The float scalars the activation and loss nodes read. */
const lossConstants = (positions: number): Record<string, number> => ({ inv_p: 1 / positions, two_inv_p: 2 / positions, zero: 0, six: 6 });

/** out = act(pre): the name act(pre) has. */
function activationNodes(activation: Activation, pre: string, nodes: OnnxNodeSpec[]): string {
  if (activation === 'none') return pre;
  const out = `${pre}_act`;
  nodes.push(activation === 'relu' ? { op: 'Relu', inputs: [pre], outputs: [out] } : { op: 'Clip', inputs: [pre, 'zero', 'six'], outputs: [out] });
  return out;
}

/**
 * ∂L/∂pre = g · act′(pre), act′ a 0/1 tensor: 1 where the activation passes its input (0 < pre, and pre < 6 for
 * ReLU6), read from the activation's output `out` (0 < out ⟺ 0 < pre, out < 6 ⟺ pre < 6): with pre read by the
 * activation alone, onnxruntime fuses it into the Conv and skips a pass over the tensor. Comparisons, not Sign:
 * onnxruntime's WebGPU EP has no Sign, and a node it lacks runs on the CPU, moving an activation-sized tensor both
 * ways every iteration. Answers the gradient's name.
 */
function activationGradientNodes(activation: Activation, out: string, g: string, nodes: OnnxNodeSpec[]): string {
  if (activation === 'none') return g;
  const open = `${out}_open`;
  if (activation === 'relu') nodes.push({ op: 'Greater', inputs: [out, 'zero'], outputs: [open] });
  else
    nodes.push(
      { op: 'Greater', inputs: [out, 'zero'], outputs: [`${out}_above`] },
      { op: 'Less', inputs: [out, 'six'], outputs: [`${out}_below`] },
      { op: 'And', inputs: [`${out}_above`, `${out}_below`], outputs: [open] },
    );
  nodes.push({ op: 'Cast', inputs: [open], outputs: [`${out}_mask`], attrs: { to: FLOAT } }, { op: 'Mul', inputs: [g, `${out}_mask`], outputs: [`${out}_grad`] });
  return `${out}_grad`;
}

/** loss = Σ(out − t)² / P and its gradient g = 2(out − t) / P. */
function lossNodes(out: string, g: string): OnnxNodeSpec[] {
  return [
    { op: 'Sub', inputs: [out, 't'], outputs: ['e'] },
    { op: 'ReduceSumSquare', inputs: ['e'], outputs: ['sum'], attrs: { keepdims: 0 } },
    { op: 'Mul', inputs: ['sum', 'inv_p'], outputs: ['loss'] },
    { op: 'Mul', inputs: ['e', 'two_inv_p'], outputs: [g] },
  ];
}

/** A spec's nodes and constants with every name not in `bind` put under `prefix`, so specs compose into one graph. */
function embed(spec: OnnxGraphSpec, prefix: string, bind: Readonly<Record<string, string>>): { nodes: OnnxNodeSpec[]; int64Constants: Record<string, readonly number[]> } {
  const rename = (v: string) => (v === '' ? v : (bind[v] ?? `${prefix}${v}`));
  for (const i of spec.inputs) if (!(i.name in bind)) throw new Error(`embed: input '${i.name}' is not bound`);
  return {
    nodes: spec.nodes.map((n) => ({ ...n, inputs: n.inputs.map(rename), outputs: n.outputs.map(rename) })),
    int64Constants: Object.fromEntries(Object.entries(spec.int64Constants ?? {}).map(([k, v]) => [rename(k), v])),
  };
}

const shapeOnly = (shape: readonly number[]) => ({ shape, data: new Float32Array(0) });

type LinearOp = Extract<UnitOp, { kind: 'conv' | 'gemm' }>;

/** A depthwise conv of a unit whose ∂L/∂w the host computes: the graph outputs its ∂L/∂y (hdy{k}) and, unless it reads the unit's input, its input (hx{k}). */
export interface HostDepthwise {
  readonly op: Extract<UnitOp, { kind: 'conv' }>;
  readonly geometry: ConvGeometry;
}

/**
 * Above this many input values the host's depthwise weight gradient loses to the graph's (a unit's step, batch 32,
 * CPU time, fastest of 4–30 interleaved with the graph's): MobileNetV2's 192 channels at 28×28 (4.8 M) 95 → 42 ms and
 * 576 at 14×14 (3.6 M) 56 → 23 ms, DS-CNN's 64 at 25×5 5.1 → 3.5 ms; but 32 at 112×112 (12.8 M) 254 → 315 ms and
 * 144 at 56×56 (14.5 M) 248 → 309 ms, the kernel's operands no longer in cache.
 */
export const HOST_DEPTHWISE_LIMIT = 2 ** 23;

/**
 * The depthwise convs of a unit whose weight gradients a CPU backend computes on the host: stride 1 (the kernel's
 * SIMD path; at stride 2 MobileNetV2's layers took 79 → 91 ms) and inputs up to HOST_DEPTHWISE_LIMIT values.
 */
export function hostDepthwiseOps(p: UnitProgram): HostDepthwise[] {
  return p.ops.flatMap((op) => {
    if (op.kind !== 'conv') return [];
    const geometry = convGeometry(shapeOnly(p.shapes[op.input]), shapeOnly(p.weights[op.weight]), op.params);
    const small = geometry.n * geometry.cin * geometry.h * geometry.w <= HOST_DEPTHWISE_LIMIT;
    return isDepthwise(geometry) && small && op.params.strides.every((s) => s === 1) ? [{ op, geometry }] : [];
  });
}

/**
 * LSQ fake quantization of `raw` by quantizer k (inputs: step s{k} and its reciprocal inv{k}): u = raw · 1/s, a
 * product as the host's quantizer takes it (and correctly rounded on a GPU, where f32 division is not), rounded
 * with ties upward (floor(u + ½)) as the host rounds; QDrop takes raw where mask m{k} is 1. Answers the value its
 * readers are fed.
 */
function fakeQuantizeNodes(q: UnitQuantizer, k: number, raw: string, nodes: OnnxNodeSpec[]): string {
  const [s, t] = [`s${k}`, `q${k}_`];
  nodes.push(
    { op: 'Mul', inputs: [raw, `inv${k}`], outputs: [`${t}u`] },
    { op: 'Add', inputs: [`${t}u`, 'half'], outputs: [`${t}u_half`] },
    { op: 'Floor', inputs: [`${t}u_half`], outputs: [`${t}r`] },
    { op: 'Clip', inputs: [`${t}r`, `lo${k}`, `hi${k}`], outputs: [`${t}c`] },
    { op: 'Mul', inputs: [`${t}c`, s], outputs: [`${t}y`] },
    { op: 'Equal', inputs: [`${t}r`, `${t}c`], outputs: [`${t}in_b`] },
    { op: 'Cast', inputs: [`${t}in_b`], outputs: [`${t}in`], attrs: { to: FLOAT } },
  );
  if (!q.qdrop) return `${t}y`;
  nodes.push(
    { op: 'Sub', inputs: ['one', `m${k}`], outputs: [`${t}keep`] },
    { op: 'Mul', inputs: [raw, `m${k}`], outputs: [`${t}dropped`] },
    { op: 'Mul', inputs: [`${t}y`, `${t}keep`], outputs: [`${t}kept`] },
    { op: 'Add', inputs: [`${t}dropped`, `${t}kept`], outputs: [`${t}fed`] },
  );
  return `${t}fed`;
}

/**
 * The backward of fakeQuantizeNodes from g = ∂L/∂(fed value): dropped elements carry nothing, the rest pass
 * straight through inside the range; ∂L/∂log s{k} = s·Σ g·(c − u·inside) goes to output ds{k}. Answers ∂L/∂raw.
 */
function fakeQuantizeGradientNodes(q: UnitQuantizer, k: number, g: string, nodes: OnnxNodeSpec[]): string {
  const t = `q${k}_`;
  let kept = g;
  if (q.qdrop) {
    nodes.push({ op: 'Mul', inputs: [g, `${t}keep`], outputs: [`${t}g`] });
    kept = `${t}g`;
  }
  nodes.push(
    { op: 'Mul', inputs: [kept, `${t}in`], outputs: [`${t}graw`] },
    { op: 'Mul', inputs: [`${t}u`, `${t}in`], outputs: [`${t}u_in`] },
    { op: 'Sub', inputs: [`${t}c`, `${t}u_in`], outputs: [`${t}ds_term`] },
    { op: 'Mul', inputs: [kept, `${t}ds_term`], outputs: [`${t}ds_e`] },
    { op: 'ReduceSum', inputs: [`${t}ds_e`], outputs: [`${t}ds_sum`], attrs: { keepdims: 0 } },
    { op: 'Mul', inputs: [`${t}ds_sum`, `s${k}`], outputs: [`ds${k}`] },
  );
  return `${t}graw`;
}

/**
 * One graph for a unit's whole step: the forward of every op, the loss at the unit's output, and the backward to
 * every weight (dw0, dw1, …; biases are not learned), to every quantizer's log step (ds0, …) and, when `needInput`, to the unit's input
 * (dx); gradients of a value read twice (a residual block's input) are summed. Inputs x, w0, b0 (when op 0 has a
 * bias), …, s0, inv0, m0 (QDrop only), …, t. With `cpu`, a depthwise conv's dw{k} is left to the host (see
 * hostDepthwiseOps) and forward convs may run in NCHWc blocks (runsNchwc).
 */
export function unitStepGraph(p: UnitProgram, positions: number, needInput: boolean, cpu?: CpuKernels): OnnxGraphSpec {
  const onHost = new Set(cpu ? hostDepthwiseOps(p).map((d) => d.op) : []);
  const hostOutputs: string[] = [];
  // A value's name as its readers see it (after fake quantization), and as it was made (for the loss).
  const names = new Map<string, string>([[p.input, 'x']]);
  const made = new Map<string, string>();
  const quantizerOf = new Map(p.quantizers.map((q, k) => [q.value, k]));
  const floats: Record<string, number> = { ...lossConstants(positions), half: 0.5, one: 1 };
  const name = (v: string) => names.get(v) ?? (() => { throw new Error(`unitStepGraph: '${v}' is read before it is made`); })();
  const nodes: OnnxNodeSpec[] = [];
  const int64: Record<string, readonly number[]> = {};
  const place = (spec: OnnxGraphSpec, prefix: string, bind: Record<string, string>) => {
    const e = embed(spec, prefix, bind);
    nodes.push(...e.nodes);
    Object.assign(int64, e.int64Constants);
  };
  const linear = (op: LinearOp) => {
    const x = p.shapes[op.input];
    const w = p.weights[op.weight];
    return op.kind === 'conv' ? { conv: convGeometry(shapeOnly(x), shapeOnly(w), op.params) } : { gemm: [x[0], x[1], w[0]] as const };
  };
  const inputs = [{ name: 'x', shape: p.shapes[p.input] }];
  for (const op of p.ops) {
    if (op.kind !== 'conv' && op.kind !== 'gemm') continue;
    inputs.push({ name: `w${op.weight}`, shape: p.weights[op.weight] });
    if (op.bias) inputs.push({ name: `b${op.weight}`, shape: [p.weights[op.weight][0]] });
  }
  p.quantizers.forEach((q, k) => {
    inputs.push({ name: `s${k}`, shape: [] }, { name: `inv${k}`, shape: [] });
    if (q.qdrop) inputs.push({ name: `m${k}`, shape: p.shapes[q.value] });
    Object.assign(floats, { [`lo${k}`]: q.lo, [`hi${k}`]: q.hi });
  });
  inputs.push({ name: 't', shape: p.shapes[p.output] });

  p.ops.forEach((op, i) => {
    let out = `v${i}`;
    if (op.kind === 'add') nodes.push({ op: 'Add', inputs: op.inputs.map(name), outputs: [out] });
    else if (op.kind === 'relu') nodes.push({ op: 'Relu', inputs: [name(op.input)], outputs: [out] });
    else {
      const l = linear(op);
      if (l.conv && runsNchwc(l.conv, cpu)) {
        // The NCHWc conv applies a ReLU itself, so its output is the activation's.
        const relu = op.activation === 'relu';
        place(nchwcConvForwardGraph(l.conv, op.bias, cpu.nchwcBlock, relu), `f${i}_`, { x: name(op.input), w: `w${op.weight}`, b: `b${op.weight}`, y: relu ? `v${i}_relu` : `v${i}_pre` });
        out = relu ? `v${i}_relu` : activationNodes(op.activation, `v${i}_pre`, nodes);
      } else {
        const forward = l.conv ? convForwardGraph(l.conv, op.bias) : gemmForwardGraph(l.gemm[0], l.gemm[1], l.gemm[2], op.bias);
        place(forward, `f${i}_`, { x: name(op.input), w: `w${op.weight}`, b: `b${op.weight}`, y: `v${i}_pre` });
        out = activationNodes(op.activation, `v${i}_pre`, nodes);
      }
    }
    made.set(op.output, out);
    const k = quantizerOf.get(op.output);
    names.set(op.output, k === undefined ? out : fakeQuantizeNodes(p.quantizers[k], k, out, nodes));
  });

  nodes.push(...lossNodes(made.get(p.output) ?? name(p.output), 'g_out'));
  const grads = new Map<string, string[]>([[p.output, ['g_out']]]);
  const push = (v: string, g: string) => grads.set(v, [...(grads.get(v) ?? []), g]);
  const gradient = (v: string, tag: string): string => {
    const list = grads.get(v) ?? [];
    if (list.length === 0) throw new Error(`unitStepGraph: '${v}' does not reach the unit's output`);
    // A chain of Adds, not Sum: onnxruntime's WebGPU EP has no Sum.
    let total = list[0];
    list.slice(1).forEach((g, k) => {
      nodes.push({ op: 'Add', inputs: [total, g], outputs: [`g_${tag}_${k}`] });
      total = `g_${tag}_${k}`;
    });
    return total;
  };
  const wanted = (v: string) => v !== p.input || needInput;
  for (let i = p.ops.length - 1; i >= 0; i--) {
    const op = p.ops[i];
    const k = quantizerOf.get(op.output);
    const fed = gradient(op.output, String(i));
    const g = k === undefined ? fed : fakeQuantizeGradientNodes(p.quantizers[k], k, fed, nodes);
    if (op.kind === 'add') op.inputs.forEach((v) => wanted(v) && push(v, g));
    else if (op.kind === 'relu') {
      if (wanted(op.input)) push(op.input, activationGradientNodes('relu', made.get(op.output)!, g, nodes));
    } else {
      const dy = activationGradientNodes(op.activation, made.get(op.output)!, g, nodes);
      const l = linear(op);
      const dx = wanted(op.input) ? `dx${i}` : undefined;
      if (l.conv && onHost.has(op as Extract<UnitOp, { kind: 'conv' }>)) {
        nodes.push({ op: 'Identity', inputs: [dy], outputs: [`hdy${op.weight}`] });
        hostOutputs.push(`hdy${op.weight}`);
        if (op.input !== p.input) {
          nodes.push({ op: 'Identity', inputs: [name(op.input)], outputs: [`hx${op.weight}`] });
          hostOutputs.push(`hx${op.weight}`);
        }
        if (dx) place(convInputGradientGraph(l.conv, cpu), `dx${i}_`, { w: `w${op.weight}`, dy, dx });
      } else if (l.conv) {
        place(convWeightGradientGraph(l.conv, false), `dw${i}_`, { x: name(op.input), dy, dw: `dw${op.weight}` });
        if (dx) place(convInputGradientGraph(l.conv, cpu), `dx${i}_`, { w: `w${op.weight}`, dy, dx });
      } else {
        const bind: Record<string, string> = { x: name(op.input), w: `w${op.weight}`, dy, dw: `dw${op.weight}`, ...(dx ? { dx } : {}) };
        place(gemmBackwardGraph(l.gemm[0], l.gemm[1], l.gemm[2], dx !== undefined, false), `dw${i}_`, bind);
      }
      if (dx) push(op.input, dx);
    }
  }
  const gradientOutputs = [...p.ops.flatMap((op) => (op.kind === 'conv' || op.kind === 'gemm') && !onHost.has(op as Extract<UnitOp, { kind: 'conv' }>) ? [`dw${op.weight}`] : []), ...hostOutputs, ...p.quantizers.map((_, k) => `ds${k}`)];
  if (needInput) nodes.push({ op: 'Identity', inputs: [gradient(p.input, 'input')], outputs: ['dx'] });
  return { inputs, outputs: ['loss', ...gradientOutputs, ...(needInput ? ['dx'] : [])], nodes, int64Constants: int64, floatConstants: floats };
}
