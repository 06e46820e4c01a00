import type { onnx } from 'onnx-proto';
import { fail } from '../../errors.js';
import { toNumbers } from '../../ir/dtype.js';
import type { Attrs, AttrValue, Node } from '../../ir/graph.js';
import type { Shape } from '../../ir/shape.js';
import { windowProblem } from '../../ops/window.js';
import { decodeTensor, dtypeOf, int64 } from './tensor-proto.js';

/** What a rule sees of the ONNX node being imported and of the graph built so far. */
export interface RuleContext {
  readonly proto: onnx.INodeProto;
  readonly name: string;
  readonly opset: number;
  /** '<file>: node '<name>' (<op>)', the prefix of every error. */
  readonly where: string;
  attr(key: string): AttrValue | undefined;
  shapeOf(input: string): Shape;
  /** The constant values of input `i`, or undefined when absent; an error when present but computed. */
  constInput(i: number): number[] | undefined;
  /** Adds an int64 constant and returns its name (for operands that moved from attributes to inputs). */
  addInt64Constant(name: string, values: readonly number[]): string;
  /** Adds a float32 constant (a scalar when `shape` is []) and returns its name. */
  addFloatConstant(name: string, values: readonly number[], shape: readonly number[]): string;
  /** Whether any node or graph output reads the tensor. */
  isRead(tensor: string): boolean;
}

/** An ONNX op's translation to IR nodes (usually one, with normalized attributes). */
type Rule = (ctx: RuleContext) => Node[];

function node(ctx: RuleContext, op: string, attrs: Attrs, inputs: readonly string[] = ctx.proto.input ?? []): Node[] {
  return [{ name: ctx.name, op, inputs: [...inputs], outputs: [...(ctx.proto.output ?? [])], attrs }];
}

const plain = (op: string): Rule => (ctx) => node(ctx, op, {});

/**
 * Add/Sub/Mul/Div. Before opset 7 they broadcast only with broadcast=1, aligning B at `axis` of A;
 * numpy aligns B at the end, so B gets trailing 1-dims: `Add(A[N,C,H,W], B[C], axis=1) → Add(A, Unsqueeze(B, [1, 2]))`.
 */
const arithmetic = (op: string): Rule => (ctx) => {
  if (ctx.opset >= 7 || num(ctx, 'broadcast', 0) === 0) return node(ctx, op, {}, ctx.proto.input!.slice(0, 2));
  const [a, b] = ctx.proto.input!;
  const [rankA, rankB] = [ctx.shapeOf(a).length, ctx.shapeOf(b).length];
  const axis = num(ctx, 'axis', rankA - rankB);
  const resolved = axis < 0 ? axis + rankA : axis;
  if (!Number.isSafeInteger(resolved) || resolved < 0 || resolved + rankB > rankA)
    fail('MODEL_INVALID', `${ctx.where}: broadcast axis ${axis} does not fit B of rank ${rankB} into A of rank ${rankA}; expected 0..${rankA - rankB}: fix the node's attributes`);
  const [align, aligned] = alignAtAxis(ctx, b, rankB, rankA - resolved - rankB);
  return [...align, ...node(ctx, op, {}, [a, aligned])];
};

/** B given `trailing` size-1 dims so numpy broadcasting puts it where an old-opset axis attribute did: the Unsqueeze node (if any) and the name to read. */
function alignAtAxis(ctx: RuleContext, b: string, rankB: number, trailing: number): [Node[], string] {
  if (trailing === 0) return [[], b];
  const aligned = `${b}:aligned-for-${ctx.name}`;
  const axes = Array.from({ length: trailing }, (_, k) => rankB + k);
  return [[{ name: `${ctx.name}:align`, op: 'Unsqueeze', inputs: [b], outputs: [aligned], attrs: { axes } }], aligned];
}

/** PRelu. Before opset 7 a 1-D slope held one value per channel (dim 1); numpy alignment needs it shaped [C, 1, …]. */
function preluRule(ctx: RuleContext): Node[] {
  const [x, slope] = ctx.proto.input!;
  const [rankX, slopeShape] = [ctx.shapeOf(x).length, ctx.shapeOf(slope)];
  if (ctx.opset >= 7 || slopeShape.length !== 1 || slopeShape[0] === 1 || rankX < 3) return node(ctx, 'PRelu', {});
  const [align, aligned] = alignAtAxis(ctx, slope, 1, rankX - 2);
  return [...align, ...node(ctx, 'PRelu', {}, [x, aligned])];
}

/** Sum(x1, …, xn) → Add(…Add(Add(x1, x2), x3)…, xn) (Max, Min alike with their binary op); one input is Identity. */
function variadicChain(ctx: RuleContext, output: string, op = 'Add'): Node[] {
  const xs = ctx.proto.input!.filter((x) => x !== '');
  if (xs.length === 0) fail('MODEL_INVALID', `${ctx.where}: needs at least one input`);
  if (xs.length === 1) return [{ name: ctx.name, op: 'Identity', inputs: [xs[0]], outputs: [output], attrs: {} }];
  return xs.slice(1).map((x, k) => {
    const last = k === xs.length - 2;
    return {
      name: last ? ctx.name : `${ctx.name}:${op.toLowerCase()}${k}`,
      op,
      inputs: [k === 0 ? xs[0] : `${output}:partial${k - 1}`, x],
      outputs: [last ? output : `${output}:partial${k}`],
      attrs: {},
    };
  });
}

/** Mean(x1, …, xn) → Sum(x1, …, xn) · (1/n). */
function meanRule(ctx: RuleContext): Node[] {
  const n = ctx.proto.input!.filter((x) => x !== '').length;
  const out = ctx.proto.output![0];
  if (n <= 1) return variadicChain(ctx, out);
  const sum = `${out}:sum`;
  const chain = variadicChain({ ...ctx, name: `${ctx.name}:sum` }, sum);
  return [...chain, { name: ctx.name, op: 'Mul', inputs: [sum, ctx.addFloatConstant(`${ctx.name}:1/n`, [1 / n], [])], outputs: [out], attrs: {} }];
}

/** Dropout at inference is the identity; its mask output (when read) has no inference meaning flexq can give. */
function dropoutRule(ctx: RuleContext): Node[] {
  const [x, , training] = ctx.proto.input!;
  const mask = ctx.proto.output![1];
  if (mask && ctx.isRead(mask))
    fail('UNSUPPORTED_ATTR', `${ctx.where}: its mask output '${mask}' is read by the graph; flexq imports inference graphs where Dropout is the identity and its mask unused: export the model in eval mode`);
  if (training && ctx.constInput(2)!.some((v) => v !== 0))
    fail('UNSUPPORTED_ATTR', `${ctx.where}: training_mode is true; flexq imports inference graphs: export the model in eval mode`);
  return [{ name: ctx.name, op: 'Identity', inputs: [x], outputs: [ctx.proto.output![0]], attrs: {} }];
}

/** ConstantOfShape(shape): the fill value and type come from the `value` tensor attribute (default float 0). */
function constantOfShapeRule(ctx: RuleContext): Node[] {
  const t = (ctx.proto.attribute ?? []).find((a) => a.name === 'value')?.t;
  const fill = t ? decodeTensor(t, 'value', ctx.where) : undefined;
  const values = fill ? toNumbers(fill.data!) : [0];
  if (values.length !== 1) fail('MODEL_INVALID', `${ctx.where}: the value attribute must hold one element, found ${values.length}: fix the node's attributes`);
  return node(ctx, 'ConstantOfShape', { value: values[0], dtype: fill?.dtype ?? 'float32' });
}

/** A static dim of the node's input `input`, or an error saying the rule needs it known. */
function staticDim(ctx: RuleContext, input: string, axis: number, why: string): number {
  const d = ctx.shapeOf(input)[axis];
  if (typeof d !== 'number') return fail('UNSUPPORTED_ATTR', `${ctx.where}: dim ${axis} of '${input}' is '${d}', but ${why} needs it known; pass --input-shape`);
  return d;
}

/** Split(X) along `axis` → one Slice per output; sizes from `split` (an attribute before opset 13, an input after), else equal parts. */
function splitRule(ctx: RuleContext): Node[] {
  const x = ctx.proto.input![0];
  const rank = ctx.shapeOf(x).length;
  const axis0 = num(ctx, 'axis', 0);
  const axis = axis0 < 0 ? axis0 + rank : axis0;
  if (axis < 0 || axis >= rank) fail('MODEL_INVALID', `${ctx.where}: axis ${axis0} is out of range for a rank-${rank} input; expected ${-rank}..${rank - 1}`);
  const dim = staticDim(ctx, x, axis, 'splitting it');
  const outputs = ctx.proto.output!;
  const given = ctx.opset < 13 ? (ctx.attr('split') as number[] | undefined) : ctx.constInput(1);
  // Equal parts; opset 18's num_outputs allows a smaller last part.
  const part = Math.ceil(dim / outputs.length);
  const sizes = given ?? outputs.map((_, k) => Math.min(part, dim - k * part));
  if (sizes.length !== outputs.length || sizes.some((v) => v < 0) || sizes.reduce((a, b) => a + b, 0) !== dim)
    fail('MODEL_INVALID', `${ctx.where}: split sizes [${sizes}] must be ${outputs.length} sizes ≥ 0 that add up to dim ${axis} (${dim}): fix the node's attributes`);
  let start = 0;
  return outputs.flatMap((o, k) => {
    const begin = start;
    start += sizes[k];
    if (o === '') return [];
    const consts = [['starts', begin], ['ends', start], ['axes', axis]].map(([what, v]) => ctx.addInt64Constant(`${ctx.name}:${k}:${what}`, [v as number]));
    return [{ name: `${ctx.name}:${k}`, op: 'Slice', inputs: [x, ...consts], outputs: [o], attrs: {} }];
  });
}

/**
 * DepthToSpace and SpaceToDepth as the ONNX spec defines them, Reshape → Transpose → Reshape (the batch dim copied, 0):
 * DepthToSpace DCR: [N, b, b, C/b², H, W] perm [0,3,4,1,5,2]; CRD: [N, C/b², b, b, H, W] perm [0,1,4,2,5,3]; → [N, C/b², H·b, W·b].
 * SpaceToDepth: [N, C, H/b, b, W/b, b] perm [0,3,5,1,2,4] → [N, C·b², H/b, W/b].
 */
function pixelShuffleRule(ctx: RuleContext): Node[] {
  const x = ctx.proto.input![0];
  const b = num(ctx, 'blocksize', 0);
  const rank = ctx.shapeOf(x).length;
  if (rank !== 4 || !Number.isSafeInteger(b) || b < 1)
    fail('MODEL_INVALID', `${ctx.where}: needs a rank-4 NCHW input and blocksize ≥ 1; found rank ${rank}, blocksize ${b}`);
  const [c, h, w] = [1, 2, 3].map((a) => staticDim(ctx, x, a, 'rearranging it'));
  const toSpace = ctx.proto.opType === 'DepthToSpace';
  const divisible = toSpace ? c % (b * b) === 0 : h % b === 0 && w % b === 0;
  if (!divisible) fail('MODEL_INVALID', `${ctx.where}: input [${ctx.shapeOf(x)}] is not divisible by blocksize ${b}`);
  const crd = str(ctx, 'mode', 'DCR') === 'CRD';
  const [split, perm, merged] = !toSpace
    ? [[0, c, h / b, b, w / b, b], [0, 3, 5, 1, 2, 4], [0, c * b * b, h / b, w / b]]
    : crd
      ? [[0, c / (b * b), b, b, h, w], [0, 1, 4, 2, 5, 3], [0, c / (b * b), h * b, w * b]]
      : [[0, b, b, c / (b * b), h, w], [0, 3, 4, 1, 5, 2], [0, c / (b * b), h * b, w * b]];
  const out = ctx.proto.output![0];
  return [
    { name: `${ctx.name}:split`, op: 'Reshape', inputs: [x, ctx.addInt64Constant(`${ctx.name}:split-shape`, split)], outputs: [`${out}:split`], attrs: {} },
    { name: `${ctx.name}:permute`, op: 'Transpose', inputs: [`${out}:split`], outputs: [`${out}:permuted`], attrs: { perm } },
    { name: ctx.name, op: 'Reshape', inputs: [`${out}:permuted`, ctx.addInt64Constant(`${ctx.name}:merged-shape`, merged)], outputs: [out], attrs: {} },
  ];
}

/** Upsample (opsets 7–9; scales an attribute before 9, an input from 9) is Resize-10 with asymmetric coordinates and floor for nearest. */
function upsampleRule(ctx: RuleContext): Node[] {
  const mode = str(ctx, 'mode', 'nearest');
  if (mode !== 'nearest' && mode !== 'linear' && mode !== 'bilinear')
    fail('UNSUPPORTED_ATTR', `${ctx.where}: mode '${mode}'; expected nearest, linear or bilinear`);
  const x = ctx.proto.input![0];
  const scales = ctx.opset < 9 ? [...ints(ctx, 'scales', [])] : ctx.constInput(1) ?? [];
  if (scales.length !== ctx.shapeOf(x).length || scales[0] !== 1 || scales[1] !== 1)
    fail('UNSUPPORTED_ATTR', `${ctx.where}: scales [${scales}] must hold one scale per dim of [${ctx.shapeOf(x)}], 1 for the batch and channels (flexq resizes H and W)`);
  const attrs = { mode: mode === 'nearest' ? 'nearest' : 'linear', coordinateTransformationMode: 'asymmetric', nearestMode: 'floor' };
  return node(ctx, 'Resize', attrs, [x, '', ctx.addFloatConstant(`${ctx.name}:scales`, scales, [scales.length])]);
}

/** ReduceMean/Max/Sum: axes from the attribute (or the input, from opset 13 for ReduceSum and 18 for the others); keepdims (1). */
const reduceRule = (op: string): Rule => (ctx) => {
  const fromInput = ctx.opset >= (op === 'ReduceSum' ? 13 : 18);
  const axes = fromInput ? ctx.constInput(1) : (ctx.attr('axes') as number[] | undefined);
  const keepdims = num(ctx, 'keepdims', 1);
  if (fromInput && !axes?.length && num(ctx, 'noop_with_empty_axes', 0) === 1) return node(ctx, 'Identity', {}, [ctx.proto.input![0]]);
  return node(ctx, op, axes?.length ? { axes, keepdims } : { keepdims }, [ctx.proto.input![0]]);
};

function ints(ctx: RuleContext, key: string, fallback: readonly number[]): readonly number[] {
  const v = ctx.attr(key);
  return Array.isArray(v) ? (v as number[]) : fallback;
}

function num(ctx: RuleContext, key: string, fallback: number): number {
  const v = ctx.attr(key);
  return typeof v === 'number' ? v : fallback;
}

function str(ctx: RuleContext, key: string, fallback: string): string {
  const v = ctx.attr(key);
  return typeof v === 'string' ? v : fallback;
}

/** ONNX 2-D window attributes → flexq's: pads [t,l,b,r]; auto_pad resolved against the input size. */
function window(ctx: RuleContext, kernel: readonly number[]): Attrs {
  if (kernel.length !== 2) fail('UNSUPPORTED_ATTR', `${ctx.where}: only 2-D kernels are supported, found kernel_shape [${kernel}]`);
  const strides = ints(ctx, 'strides', [1, 1]);
  const dilations = ints(ctx, 'dilations', [1, 1]);
  const autoPad = str(ctx, 'auto_pad', 'NOTSET');
  let pads = ints(ctx, 'pads', [0, 0, 0, 0]);
  if (strides.length !== 2 || dilations.length !== 2 || pads.length !== 4)
    fail('MODEL_INVALID', `${ctx.where}: a 2-D window needs 2 strides, 2 dilations and 4 pads; found strides [${strides}], dilations [${dilations}], pads [${pads}]: fix the node's attributes`);
  // Checked before auto_pad divides by the strides: a zero stride must be an error, not NaN shapes.
  const problem = windowProblem(kernel, strides, dilations, autoPad === 'NOTSET' ? pads : undefined);
  if (problem) fail('MODEL_INVALID', `${ctx.where}: ${problem} (ONNX requires strides, dilations and kernel_shape ≥ 1 and pads ≥ 0): fix the node's attributes or re-export the model`);
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const x = ctx.shapeOf(ctx.proto.input![0]);
    const before: number[] = [];
    const after: number[] = [];
    for (let k = 0; k < 2; k++) {
      const size = x[2 + k];
      if (typeof size !== 'number') fail('UNSUPPORTED_ATTR', `${ctx.where}: auto_pad=${autoPad} needs a known input size; pass --input-shape`);
      const out = Math.ceil(size / strides[k]);
      const total = Math.max(0, (out - 1) * strides[k] + (kernel[k] - 1) * dilations[k] + 1 - size);
      const small = Math.floor(total / 2);
      before.push(autoPad === 'SAME_UPPER' ? small : total - small);
      after.push(total - before[k]);
    }
    pads = [before[0], before[1], after[0], after[1]];
  } else if (autoPad !== 'NOTSET' && autoPad !== 'VALID') {
    fail('UNSUPPORTED_ATTR', `${ctx.where}: auto_pad=${autoPad} is not an ONNX value; expected NOTSET, SAME_UPPER, SAME_LOWER or VALID`);
  }
  if (autoPad === 'VALID') pads = [0, 0, 0, 0];
  return { kernel: [...kernel], strides: [...strides], pads: [...pads], dilations: [...dilations] };
}

function kernelOf(ctx: RuleContext, weightInput?: string): readonly number[] {
  const k = ctx.attr('kernel_shape');
  if (Array.isArray(k)) return k as number[];
  if (weightInput) return ctx.shapeOf(weightInput).slice(2) as number[];
  return fail('MODEL_INVALID', `${ctx.where}: kernel_shape is required`);
}

const CAST_TO: Readonly<Record<number, string>> = { 1: 'float32', 2: 'uint8', 3: 'int8', 6: 'int32', 7: 'int64', 9: 'bool', 11: 'float32' };

/** ONNX op type → translation. The one table of supported ONNX ops. */
export const ONNX_RULES: ReadonlyMap<string, Rule> = new Map<string, Rule>([
  ['Conv', (ctx) => node(ctx, 'Conv', { ...window(ctx, kernelOf(ctx, ctx.proto.input![1])), group: num(ctx, 'group', 1) })],
  ['ConvTranspose', (ctx) => {
    if (ctx.attr('output_shape')) fail('UNSUPPORTED_ATTR', `${ctx.where}: output_shape is not supported; give pads and output_padding instead`);
    return node(ctx, 'ConvTranspose', { ...window(ctx, kernelOf(ctx, ctx.proto.input![1])), group: num(ctx, 'group', 1), outputPadding: [...ints(ctx, 'output_padding', [0, 0])] });
  }],
  ['Gemm', (ctx) => node(ctx, 'Gemm', { alpha: num(ctx, 'alpha', 1), beta: num(ctx, 'beta', 1), transA: num(ctx, 'transA', 0), transB: num(ctx, 'transB', 0) })],
  ['MatMul', plain('MatMul')],
  ['Add', arithmetic('Add')],
  ['Sub', arithmetic('Sub')],
  ['Mul', arithmetic('Mul')],
  ['Div', arithmetic('Div')],
  ['Sum', (ctx) => variadicChain(ctx, ctx.proto.output![0])],
  ['Max', (ctx) => variadicChain(ctx, ctx.proto.output![0], 'Max')],
  ['Min', (ctx) => variadicChain(ctx, ctx.proto.output![0], 'Min')],
  ['Mean', meanRule],
  ['Dropout', dropoutRule],
  ['ConstantOfShape', constantOfShapeRule],
  ['Relu', plain('Relu')],
  ['Tanh', plain('Tanh')],
  ['Floor', plain('Floor')],
  ['Ceil', plain('Ceil')],
  ['Sqrt', plain('Sqrt')],
  ['Neg', plain('Neg')],
  ['Abs', plain('Abs')],
  ['LeakyRelu', (ctx) => node(ctx, 'LeakyRelu', { alpha: num(ctx, 'alpha', 0.01) })],
  ['Elu', (ctx) => node(ctx, 'Elu', { alpha: num(ctx, 'alpha', 1) })],
  ['PRelu', preluRule],
  ['LRN', (ctx) => {
    if (ctx.attr('size') === undefined) fail('MODEL_INVALID', `${ctx.where}: attribute 'size' is required`);
    return node(ctx, 'LRN', { size: num(ctx, 'size', 0), alpha: num(ctx, 'alpha', 1e-4), beta: num(ctx, 'beta', 0.75), bias: num(ctx, 'bias', 1) });
  }],
  ['ReduceMean', reduceRule('ReduceMean')],
  ['ReduceMax', reduceRule('ReduceMax')],
  ['ReduceSum', reduceRule('ReduceSum')],
  ['Gather', (ctx) => node(ctx, 'Gather', { axis: num(ctx, 'axis', 0) })],
  ['Split', splitRule],
  ['Expand', plain('Expand')],
  ['Tile', plain('Tile')],
  ['Range', plain('Range')],
  ['DepthToSpace', pixelShuffleRule],
  ['SpaceToDepth', pixelShuffleRule],
  ['Upsample', upsampleRule],
  ['Sigmoid', plain('Sigmoid')],
  ['HardSwish', plain('HardSwish')],
  ['Identity', plain('Identity')],
  ['GlobalAveragePool', plain('GlobalAveragePool')],
  ['Shape', (ctx) => {
    if (ctx.attr('start') !== undefined || ctx.attr('end') !== undefined) fail('UNSUPPORTED_ATTR', `${ctx.where}: Shape with start/end is not supported`);
    return node(ctx, 'Shape', {});
  }],
  ['HardSigmoid', (ctx) => node(ctx, 'HardSigmoid', { alpha: num(ctx, 'alpha', 0.2), beta: num(ctx, 'beta', 0.5) })],
  // Clip-11, Squeeze-13, Unsqueeze-13 and Pad-11 moved constant operands to inputs; the IR keeps them as attributes.
  ['Clip', (ctx) => {
    const [lo, hi] = ctx.opset < 11 ? [num(ctx, 'min', -Infinity), num(ctx, 'max', Infinity)] : [ctx.constInput(1)?.[0] ?? -Infinity, ctx.constInput(2)?.[0] ?? Infinity];
    return node(ctx, 'Clip', { min: lo, max: hi }, [ctx.proto.input![0]]);
  }],
  ['MaxPool', (ctx) => {
    if ((ctx.proto.output?.length ?? 1) > 1) fail('UNSUPPORTED_ATTR', `${ctx.where}: the Indices output is not supported`);
    return node(ctx, 'MaxPool', { ...window(ctx, kernelOf(ctx)), ceilMode: num(ctx, 'ceil_mode', 0) });
  }],
  ['AveragePool', (ctx) => node(ctx, 'AveragePool', { ...window(ctx, kernelOf(ctx)), ceilMode: num(ctx, 'ceil_mode', 0), countIncludePad: num(ctx, 'count_include_pad', 0) })],
  ['Flatten', (ctx) => node(ctx, 'Flatten', { axis: num(ctx, 'axis', 1) })],
  ['Reshape', (ctx) => {
    if (ctx.opset < 5) fail('UNSUPPORTED_ATTR', `${ctx.where}: Reshape-1 (shape as attribute) is not supported; upgrade the model's opset`);
    return node(ctx, 'Reshape', { allowzero: num(ctx, 'allowzero', 0) });
  }],
  ['Transpose', (ctx) => {
    const perm = ctx.attr('perm');
    return node(ctx, 'Transpose', perm ? { perm } : {});
  }],
  ['Concat', (ctx) => node(ctx, 'Concat', { axis: num(ctx, 'axis', 1) })],
  ['Slice', (ctx) => {
    if (ctx.opset >= 10) return node(ctx, 'Slice', {});
    // Slice-1 carried starts/ends/axes as attributes; flexq's IR uses the opset-10 input form.
    const consts = ['starts', 'ends', 'axes']
      .filter((k) => ctx.attr(k) !== undefined)
      .map((k) => ctx.addInt64Constant(`${ctx.name}:${k}`, ints(ctx, k, [])));
    return node(ctx, 'Slice', {}, [ctx.proto.input![0], ...consts]);
  }],
  ['Cast', (ctx) => {
    const to = num(ctx, 'to', 0);
    return node(ctx, 'Cast', { to: CAST_TO[to] ?? dtypeOf(to, ctx.where) });
  }],
  ['Softmax', (ctx) => {
    const rank = ctx.shapeOf(ctx.proto.input![0]).length;
    const axis = num(ctx, 'axis', ctx.opset < 13 ? 1 : -1);
    // Before opset 13 Softmax flattened to 2-D at `axis`; that equals a per-axis softmax only on the last axis.
    if (ctx.opset < 13 && axis !== -1 && axis !== rank - 1)
      fail('UNSUPPORTED_ATTR', `${ctx.where}: opset-${ctx.opset} Softmax over axis ${axis} of a rank-${rank} tensor is not supported (only the last axis)`);
    return node(ctx, 'Softmax', { axis });
  }],
  ['BatchNormalization', (ctx) => {
    // Before opset 9: is_test only chose training vs inference (flexq imports for inference); spatial=0 meant per-activation statistics.
    if (ctx.opset < 9 && num(ctx, 'spatial', 1) !== 1)
      fail('UNSUPPORTED_ATTR', `${ctx.where}: spatial=${num(ctx, 'spatial', 1)} (statistics per activation) is not supported; flexq supports spatial=1 (per channel): re-export the model with per-channel batch norm`);
    if ((ctx.proto.output ?? []).slice(1).some((o) => o !== ''))
      fail('UNSUPPORTED_ATTR', `${ctx.where}: training-mode outputs (running mean/var) are not supported; export the model in inference mode`);
    return [{ name: ctx.name, op: 'BatchNormalization', inputs: [...ctx.proto.input!], outputs: [ctx.proto.output![0]], attrs: { epsilon: num(ctx, 'epsilon', 1e-5) } }];
  }],
  ['Squeeze', (ctx) => {
    const axes = ctx.opset < 13 ? ctx.attr('axes') : ctx.constInput(1);
    return node(ctx, 'Squeeze', axes ? { axes } : {}, [ctx.proto.input![0]]);
  }],
  ['Unsqueeze', (ctx) => {
    const axes = ctx.opset < 13 ? ctx.attr('axes') : ctx.constInput(1);
    if (!axes) fail('MODEL_INVALID', `${ctx.where}: axes are required`);
    return node(ctx, 'Unsqueeze', { axes }, [ctx.proto.input![0]]);
  }],
  ['Pad', (ctx) => {
    const mode = str(ctx, 'mode', 'constant');
    if (ctx.opset < 11) return node(ctx, 'Pad', { pads: ints(ctx, 'pads', []), mode, value: num(ctx, 'value', 0) });
    const pads = ctx.constInput(1);
    if (!pads) fail('MODEL_INVALID', `${ctx.where}: pads input is required`);
    if (ctx.constInput(3)) fail('UNSUPPORTED_ATTR', `${ctx.where}: the axes input of Pad-18 is not supported`);
    return node(ctx, 'Pad', { pads, mode, value: ctx.constInput(2)?.[0] ?? 0 }, [ctx.proto.input![0]]);
  }],
  ['Resize', (ctx) => {
    const attrs = {
      mode: str(ctx, 'mode', 'nearest'),
      coordinateTransformationMode: str(ctx, 'coordinate_transformation_mode', ctx.opset < 11 ? 'asymmetric' : 'half_pixel'),
      nearestMode: str(ctx, 'nearest_mode', ctx.opset < 11 ? 'floor' : 'round_prefer_floor'),
    };
    const [x, a, b, c] = ctx.proto.input!;
    // Resize-10 took (X, scales); later opsets take (X, roi, scales, sizes).
    return node(ctx, 'Resize', attrs, ctx.opset < 11 ? [x, '', a] : [x, a ?? '', b ?? '', c ?? '']);
  }],
]);

/** ONNX AttributeProto → a plain attribute value. */
export function attributeValue(a: onnx.IAttributeProto): AttrValue | undefined {
  switch (a.type) {
    case 1: return a.f ?? 0;
    case 2: return int64(a.i as number);
    case 3: return new TextDecoder().decode(a.s ?? new Uint8Array());
    case 6: return [...(a.floats ?? [])];
    case 7: return (a.ints ?? []).map((v) => int64(v as number));
    case 8: return (a.strings ?? []).map((s) => new TextDecoder().decode(s));
    default: return undefined;
  }
}
