// ONNX QDQ export: the QuantizedGraph as a float ONNX graph with QuantizeLinear / DequantizeLinear around every
// quantized tensor, the form onnxruntime's QDQ transformer fuses into integer kernels (QLinearConv, QGemm,
// QLinearMatMul, QLinearMul, QLinearGlobalAveragePool, QLinearSoftmax, int8 MaxPool/Reshape …; runtime/ mode onnx).
// Layout of the graph, for an activation v on grid (s, z):   op → v.f (float) → Q → v (int8) → DQ → v.dq → readers
//   weights:  int8 initializer w.q (sub-8-bit grids keep their own [qmin, qmax] inside int8) → DQ(s_w, 0) → readers
//   biases:   int32 initializer b.q at scale fp32(s_in·s_w), zero point 0 → DQ → readers
//   fused activations: Conv/Gemm[relu] → Relu, [relu6] → Clip(0, 6), between the op and its Q (ORT folds them away
//   when the Q's range already clamps: ReluQuantFusion / ClipQuantFusion)
//   Add is written as Sum (the same op for two inputs): ORT fuses DQ → Add → Q into QLinearAdd, whose rounding differs
//   between its builds (AVX2 FMA, NEON fixed point, and onnxruntime-web's wasm build, which rounds some near-ties
//   unlike DQ → Sum → Q: 0–2 of the 65,536 uint8 input pairs per grid, enough to move ppocr-cls and BlazeFace
//   activations), and leaves Sum in float32 between DQ and Q, which rounds the same everywhere
//   (runtime/kernels/add.ts: onnxFloatAdd). Add is memory-bound, so little is lost (ResNet-8 in onnxruntime-web,
//   1 thread: QLinearAdd would save ~0.1 of ~0.9 ms CPU per run).
//   I/O: io 'float' reads a float input and quantizes it (Q at the input), and dequantizes the outputs (DQ at the
//   outputs); io 'int8' takes and gives the int8 tensors. Graph inputs and outputs keep the source model's names.
//   extraOutputs: int8 activations also exposed as graph outputs (for per-layer comparison).
// The integers and scales are the QuantizedGraph's own, bit for bit: float32 scales, int8 weights, int32 biases.
// Flavours (recorded in metadata_props 'flexq.flavour'): which integer type the activations have, for the kernels
// each runtime has.
//   generic:  int8 activations, int8 weights (what the QuantizedGraph holds).
//   ort-web:  uint8 activations (q + 128, zero point + 128), int8 weights: the same reals, accumulators and requantized
//             values (ORT requantizes by float multiply, round half even, + zero point, saturate), so every tensor is
//             the runtime's int8 plus 128. onnxruntime-web's wasm MLAS has SIMD u8·s8 GEMMs and only scalar s8·s8.
//   ort-node: ort-web's model for onnxruntime-node, whose x86 u8s8 kernels without VNNI (vpmaddubsw) can saturate pair
//             sums to int16 (seen on an AVX2 host: 392 of 2000 outputs): exact whenever |w| ≤ 64 (255·64·2 < 32767),
//             so it refuses weights outside [−64, 63] (quantize with weightRange 'int7').

import { fail } from '../errors.js';
import type { Graph, Node, Value } from '../ir/graph.js';
import { isStatic, sizeOf } from '../ir/shape.js';
import type { ActivationQuant, QuantizedGraph } from '../ir/quantized-graph.js';
import { writeFileAtomic } from '../fs-atomic.js';
import { FLEXQ_VERSION } from '../version.js';
import {
  encodeModel,
  floatAttribute,
  intAttribute,
  intsAttribute,
  stringAttribute,
  ONNX_TYPE,
  rawTensor,
  valueInfo,
  type AttributeProto,
  type GraphProto,
  type NodeProto,
  type TensorProto,
} from '../onnx-writer.js';


/** Opset 13: per-tensor QuantizeLinear/DequantizeLinear with int8, Softmax over one axis, Clip bounds as inputs. */
export const QDQ_OPSET = 13;

export type QdqFlavour = 'generic' | 'ort-web' | 'ort-node';
export const QDQ_FLAVOURS: readonly QdqFlavour[] = ['generic', 'ort-web', 'ort-node'];

/** The weight integers onnxruntime-node's u8s8 AVX2 kernels multiply without saturating (see the top). */
export const ORT_NODE_WEIGHT_RANGE = { qmin: -64, qmax: 63 } as const;

export interface QdqOptions {
  /**
   * float: quantize the input and dequantize the outputs inside the model; int8: integer graph inputs and outputs
   * (int8 in the generic flavour, uint8 = int8 + 128 in the ort-web and ort-node flavours).
   */
  readonly io: 'float' | 'int8';
  /** Activations (by IR value name) to expose as extra integer graph outputs (int8, or uint8 = int8 + 128). */
  readonly extraOutputs?: readonly string[];
  /** Default 'generic' (see the top). */
  readonly flavour?: QdqFlavour;
}

/** Whether the activations of a flavour are uint8 (int8 + 128). */
export const hasUint8Activations = (flavour: QdqFlavour): boolean => flavour !== 'generic';

/** The first weight integer outside onnxruntime-node's exact range, with the node that reads it; undefined when all fit. */
export function weightOutsideOrtNodeRange(q: QuantizedGraph): { node: Node; weight: string; value: number } | undefined {
  const { qmin, qmax } = ORT_NODE_WEIGHT_RANGE;
  for (const node of q.graph.nodes) {
    for (const name of node.inputs) {
      const w = q.weights.get(name);
      const value = w?.values.find((x) => x < qmin || x > qmax);
      if (value !== undefined) return { node, weight: name, value };
    }
  }
  return undefined;
}

const FLOAT = ONNX_TYPE.float32;

/** Builds the QDQ graph as a list of nodes and initializers; one instance per export. */
class QdqBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private readonly scales = new Set<string>();
  private readonly zeroPoints = new Set<string>();
  private readonly dequantized = new Set<string>();

  /** Activations are int8 between Q and DQ, or uint8 (int8 + 128, zero point + 128) in the u8 flavours. */
  constructor(
    private readonly q: QuantizedGraph,
    private readonly uint8Activations: boolean,
  ) {}

  /** The scale and zero-point initializers of an activation grid (shared by its Q and DQ). */
  gridOf(name: string, grid: ActivationQuant): [string, string] {
    const scale = `${name}.scale`;
    if (!this.scales.has(name)) {
      this.initializers.push(rawTensor(scale, 'float32', [], Float32Array.of(grid.scale)));
      this.scales.add(name);
    }
    return [scale, this.zeroPointOf(name, grid)];
  }

  /**
   * The zero-point initializer alone: integer-arithmetic Convs read and write an activation at scale 1, and an unused
   * scale initializer makes onnxruntime print a warning per session.
   */
  zeroPointOf(name: string, grid: ActivationQuant): string {
    const zeroPoint = `${name}.zero_point`;
    if (!this.zeroPoints.has(name)) {
      this.initializers.push(this.uint8Activations ? rawTensor(zeroPoint, 'uint8', [], Uint8Array.of(grid.zeroPoint + 128)) : rawTensor(zeroPoint, 'int8', [], Int8Array.of(grid.zeroPoint)));
      this.zeroPoints.add(name);
    }
    return zeroPoint;
  }

  /** The float value a node reads for IR input `name`: a dequantized activation, weight or bias, or a plain constant. */
  input(name: string, where: string): string {
    if (name === '') return '';
    const grid = this.q.activations.get(name);
    if (grid) return this.dequantizeActivation(name, grid);
    const constant = this.q.weights.get(name) ?? this.q.biases.get(name);
    if (constant) {
      if (!this.dequantized.has(name)) {
        this.integers(name);
        // Per-channel scales dequantize along axis 0, the output channel of Conv weights, Gemm's B (transB) and biases.
        const { channelScales } = constant;
        const scale = channelScales ? rawTensor(`${name}.scale`, 'float32', [channelScales.length], channelScales) : rawTensor(`${name}.scale`, 'float32', [], Float32Array.of(constant.scale));
        this.initializers.push(scale);
        const attribute = channelScales ? [intAttribute('axis', 0)] : [];
        this.nodes.push({ name: `${name}/DequantizeLinear`, opType: 'DequantizeLinear', input: [`${name}.q`, `${name}.scale`, this.constantZeroPoint(name)], output: [`${name}.dq`], attribute });
        this.dequantized.add(name);
      }
      return `${name}.dq`;
    }
    const v = this.q.graph.values.get(name);
    if (v?.data) {
      if (!this.dequantized.has(name)) {
        this.initializers.push(constantTensor(v));
        this.dequantized.add(name);
      }
      return name;
    }
    return fail('MISSING_TENSOR', `${where}: input '${name}' is neither a quantized activation, a quantized weight or bias, nor a constant; re-quantize the model`);
  }

  private readonly integerTensors = new Set<string>();

  /** The integers `${name}.q` of a weight (int8) or bias (int32) as an initializer (once). */
  private integers(name: string): void {
    if (this.integerTensors.has(name)) return;
    const w = this.q.weights.get(name);
    const b = this.q.biases.get(name);
    if (w) this.initializers.push(rawTensor(`${name}.q`, 'int8', w.shape, w.values));
    else if (b) this.initializers.push(rawTensor(`${name}.q`, 'int32', [b.values.length], b.values));
    this.integerTensors.add(name);
  }

  /** The zero point `${name}.zero_point` of a weight or bias, for its DequantizeLinear (a per-axis one takes one per channel, all 0: TFLite's per-channel rule). */
  private constantZeroPoint(name: string): string {
    const zeroPoint = `${name}.zero_point`;
    const w = this.q.weights.get(name);
    const b = this.q.biases.get(name);
    if (w) this.initializers.push(w.channelScales ? rawTensor(zeroPoint, 'int8', [w.shape[0]], new Int8Array(w.shape[0])) : rawTensor(zeroPoint, 'int8', [], Int8Array.of(w.zeroPoint)));
    else if (b) this.initializers.push(b.channelScales ? rawTensor(zeroPoint, 'int32', [b.values.length], new Int32Array(b.values.length)) : rawTensor(zeroPoint, 'int32', [], Int32Array.of(0)));
    return zeroPoint;
  }

  /** A float initializer of one value, named `name` (once). */
  scalar(name: string, value: number): string {
    if (!this.integerTensors.has(name)) {
      this.initializers.push(rawTensor(name, 'float32', [], Float32Array.of(value)));
      this.integerTensors.add(name);
    }
    return name;
  }

  /**
   * q − zeroPoint of an activation, weight or bias as integer-valued floats: DequantizeLinear with scale 1. Not a
   * Cast for the weights: onnxruntime would fold it into a float initializer and then fuse the Mul after the Conv into
   * its weights (ConvMulFusion), which is not exact.
   */
  integerInput(name: string): string {
    if (this.dequantized.has(`${name}.int`)) return `${name}.int`;
    this.dequantized.add(`${name}.int`);
    const one = this.scalar('flexq/one', 1);
    const grid = this.q.activations.get(name);
    if (grid) {
      const zeroPoint = this.zeroPointOf(name, grid);
      this.nodes.push({ name: `${name}/DequantizeLinear.int`, opType: 'DequantizeLinear', input: [name, one, zeroPoint], output: [`${name}.int`] });
    } else {
      this.integers(name);
      this.nodes.push({ name: `${name}/DequantizeLinear.int`, opType: 'DequantizeLinear', input: [`${name}.q`, one, this.constantZeroPoint(name)], output: [`${name}.int`] });
    }
    return `${name}.int`;
  }

  /** A weight's integers (zero point 0) as floats through a Cast, which onnxruntime folds into a float initializer when the session starts. */
  castWeight(name: string): string {
    this.integers(name);
    this.nodes.push({ name: `${name}/Cast`, opType: 'Cast', input: [`${name}.q`], output: [`${name}.int`], attribute: [intAttribute('to', FLOAT)] });
    return `${name}.int`;
  }

  /** The stored integers of activation `name` (q, or q + 128 in the uint8 flavours) as floats, through a Cast. */
  castActivation(name: string): string {
    const cast = `${name}.stored`;
    if (!this.dequantized.has(cast)) {
      this.nodes.push({ name: `${name}/Cast`, opType: 'Cast', input: [name], output: [cast], attribute: [intAttribute('to', FLOAT)] });
      this.dequantized.add(cast);
    }
    return cast;
  }

  /** An integer Conv's bias b − zp·Σw (float32, exact: see integerConvPlan) for reading the Cast input; zp as stored. */
  foldedBias(node: Node): string {
    const [x, weight, bias] = node.inputs;
    const w = this.q.weights.get(weight)!;
    const zeroPoint = this.q.activations.get(x)!.zeroPoint + (this.uint8Activations ? 128 : 0);
    const perChannel = w.values.length / w.shape[0];
    const b = bias ? this.q.biases.get(bias)!.values : new Int32Array(w.shape[0]);
    const folded = Float32Array.from(b, (v, m) => v - zeroPoint * w.values.subarray(m * perChannel, (m + 1) * perChannel).reduce((s, x) => s + x, 0));
    const name = `${node.name}/bias.folded`;
    this.initializers.push(rawTensor(name, 'float32', [folded.length], folded));
    return name;
  }

  /** QuantizeLinear of the integer-valued float `from` at scale `divisor` onto activation `name`'s zero point (fp32(from / divisor), round half even, + zp, saturate). */
  quantizeRequantized(from: string, name: string, divisor: string): void {
    const zeroPoint = this.zeroPointOf(name, this.q.activations.get(name)!);
    this.nodes.push({ name: `${name}/QuantizeLinear`, opType: 'QuantizeLinear', input: [from, divisor, zeroPoint], output: [name] });
  }

  /** QuantizeLinear at scale 1 and the activation type's integer zero (int8 0, uint8 128) of `from`, which already holds q + zp. */
  quantizeWithZeroPointAdded(from: string, name: string): void {
    const zero = 'flexq/zero';
    if (!this.integerTensors.has(zero)) {
      this.initializers.push(this.uint8Activations ? rawTensor(zero, 'uint8', [], Uint8Array.of(128)) : rawTensor(zero, 'int8', [], Int8Array.of(0)));
      this.integerTensors.add(zero);
    }
    this.nodes.push({ name: `${name}/QuantizeLinear`, opType: 'QuantizeLinear', input: [from, this.scalar('flexq/one', 1), zero], output: [name] });
  }

  private dequantizeActivation(name: string, grid: ActivationQuant): string {
    if (!this.dequantized.has(name)) {
      const [s, z] = this.gridOf(name, grid);
      this.nodes.push({ name: `${name}/DequantizeLinear`, opType: 'DequantizeLinear', input: [name, s, z], output: [`${name}.dq`] });
      this.dequantized.add(name);
    }
    return `${name}.dq`;
  }

  /** QuantizeLinear of float `from` onto activation `name`'s grid, giving the int8 tensor `name`. */
  quantize(from: string, name: string): void {
    const [s, z] = this.gridOf(name, this.q.activations.get(name)!);
    this.nodes.push({ name: `${name}/QuantizeLinear`, opType: 'QuantizeLinear', input: [from, s, z], output: [name] });
  }
}

function constantTensor(v: Value): TensorProto {
  const data = v.data!;
  return rawTensor(v.name, v.dtype, v.shape as number[], data);
}

/** The IR ops the QDQ export writes (onnxNodes' cases); any other op is refused, by quantize --target onnx before any work. */
export const QDQ_OPS: ReadonlySet<string> = new Set([
  'Conv', 'Gemm', 'MatMul', 'Add', 'Mul', 'MaxPool', 'AveragePool', 'GlobalAveragePool', 'Relu', 'Clip', 'Sigmoid', 'HardSigmoid', 'HardSwish',
  'LeakyRelu', 'Elu', 'Tanh', 'Softmax', 'Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Concat', 'Identity', 'Transpose', 'Pad', 'Resize', 'ConvTranspose',
]);

/** The ONNX node(s) of one IR node, reading `inputs` (float names) and writing float `output`. */
function onnxNodes(node: Node, inputs: string[], output: string, b: QdqBuilder): NodeProto[] {
  const a = node.attrs;
  const num = (k: string, d: number) => Number(a[k] ?? d);
  const list = (k: string) => a[k] as readonly number[];
  const one = (opType: string, attribute: AttributeProto[] = [], input = inputs, out = output): NodeProto => ({ name: node.name, opType, input, output: [out], attribute });
  const activation = String(a.activation ?? 'none');
  const withActivation = (main: NodeProto): NodeProto[] => {
    if (activation === 'none') return [main];
    const inner = `${output}.preact`;
    main.output = [inner];
    if (activation === 'relu') return [main, { name: `${node.name}/Relu`, opType: 'Relu', input: [inner], output: [output] }];
    const [lo, hi] = [`${node.name}/clip.min`, `${node.name}/clip.max`];
    b.initializers.push(rawTensor(lo, 'float32', [], Float32Array.of(0)), rawTensor(hi, 'float32', [], Float32Array.of(6)));
    return [main, { name: `${node.name}/Clip`, opType: 'Clip', input: [inner, lo, hi], output: [output] }];
  };
  const window = () => [intsAttribute('kernel_shape', list('kernel')), intsAttribute('strides', list('strides') ?? [1, 1]), intsAttribute('pads', list('pads') ?? [0, 0, 0, 0])];
  switch (node.op) {
    case 'Conv':
      return withActivation(one('Conv', [...window(), intsAttribute('dilations', list('dilations') ?? [1, 1]), intAttribute('group', num('group', 1))]));
    case 'Gemm':
      return withActivation(one('Gemm', [floatAttribute('alpha', num('alpha', 1)), floatAttribute('beta', num('beta', 1)), intAttribute('transA', num('transA', 0)), intAttribute('transB', num('transB', 0))]));
    case 'MaxPool':
      return [one('MaxPool', [...window(), intsAttribute('dilations', list('dilations') ?? [1, 1]), intAttribute('ceil_mode', num('ceilMode', 0))])];
    case 'AveragePool':
      return [one('AveragePool', [...window(), intAttribute('ceil_mode', num('ceilMode', 0)), intAttribute('count_include_pad', num('countIncludePad', 0))])];
    case 'Flatten':
    case 'Softmax':
    case 'Concat':
      return [one(node.op, [intAttribute('axis', num('axis', node.op === 'Flatten' ? 1 : -1))])];
    case 'Reshape':
      return [one('Reshape', num('allowzero', 0) ? [intAttribute('allowzero', 1)] : [])];
    case 'HardSigmoid':
      return [one('HardSigmoid', [floatAttribute('alpha', num('alpha', 0.2)), floatAttribute('beta', num('beta', 0.5))])];
    case 'LeakyRelu':
      return [one('LeakyRelu', [floatAttribute('alpha', num('alpha', 0.01))])];
    case 'Elu':
      return [one('Elu', [floatAttribute('alpha', num('alpha', 1))])];
    case 'Clip': {
      const bound = (k: 'min' | 'max') => {
        if (a[k] === undefined) return '';
        const name = `${node.name}/clip.${k}`;
        b.initializers.push(rawTensor(name, 'float32', [], Float32Array.of(Number(a[k]))));
        return name;
      };
      return [one('Clip', [], [inputs[0], bound('min'), bound('max')])];
    }
    case 'Squeeze':
    case 'Unsqueeze': {
      const axes = list('axes');
      if (!axes) return [one(node.op, [], [inputs[0]])];
      const name = `${node.name}/axes`;
      b.initializers.push(rawTensor(name, 'int64', [axes.length], BigInt64Array.from(axes, BigInt)));
      return [one(node.op, [], [inputs[0], name])];
    }
    case 'Add':
      return [one('Sum')];
    case 'Mul':
    case 'MatMul':
    case 'Relu':
    case 'Sigmoid':
    case 'HardSwish':
    case 'Tanh':
    case 'GlobalAveragePool':
    case 'Identity':
      return [one(node.op)];
    case 'Transpose':
      return [one('Transpose', a.perm === undefined ? [] : [intsAttribute('perm', list('perm'))])];
    case 'Pad': {
      // Pad-13 takes its pads and constant as inputs; the value 0 quantizes to the zero point, as the runtime pads.
      const [pads, value] = [`${node.name}/pads`, `${node.name}/value`];
      b.initializers.push(rawTensor(pads, 'int64', [list('pads').length], BigInt64Array.from(list('pads'), BigInt)), rawTensor(value, 'float32', [], Float32Array.of(num('value', 0))));
      return [one('Pad', [stringAttribute('mode', String(a.mode ?? 'constant'))], [inputs[0], pads, value])];
    }
    case 'Resize':
      return [one('Resize', [
        stringAttribute('mode', String(a.mode ?? 'nearest')),
        stringAttribute('coordinate_transformation_mode', String(a.coordinateTransformationMode ?? 'half_pixel')),
        stringAttribute('nearest_mode', String(a.nearestMode ?? 'round_prefer_floor')),
      ], [...inputs, '', '', ''].slice(0, 4))];
    default:
      return fail('UNSUPPORTED_OP', `${node.name} (${node.op}): no ONNX QDQ export rule; supported: ${[...QDQ_OPS].join(', ')}`);
  }
}

/** Every partial sum of integer-valued float32 terms below this is exact, whatever the summation order. */
const FLOAT32_EXACT_INTEGERS = 2 ** 24;

/** What an integer-arithmetic Conv needs: QLinearConv's output multiplier and requantization range. */
interface IntegerConvPlan {
  readonly multiplier: number;
  /** [min − zp, max − zp] of the output, the fused activation included (runtime/kernels/gemm.ts fusedActivationRange). */
  readonly lo: number;
  readonly hi: number;
  /**
   * A QuantizeLinear scale giving the integers of the Mul → Clip → QuantizeLinear steps (requantizingDivisor), for a
   * Conv that can read its input through a Cast (see integerConvPlan). Undefined: keep the steps.
   */
  readonly divisor?: number;
}

/** An 8-bit activation's integer range: what QuantizeLinear saturates to (int8, or uint8 = int8 + 128). */
const [INT8_MIN, INT8_MAX] = [-128, 127];

// Adding then subtracting 1.5·2^52 rounds a double with |v| ≤ 2^51 to an integer, ties to even (the IEEE default).
const roundHalfToEven = (v: number): number => v + 6755399441055744 - 6755399441055744;

/**
 * A float32 scale d for which QuantizeLinear(acc, d) = clamp(round(fp32(acc / d))) equals the requantization
 * clamp(round(fp32(acc · multiplier))) (runtime/requant/onnx.ts) for every integer |acc| ≤ accBound, so one
 * QuantizeLinear replaces the Mul (and the Clip, as its saturation is the range): every MLAS QuantizeLinear kernel
 * (wasm scalar, SSE2, AVX-512, NEON) divides in float32, correctly rounded, clamps and rounds half to even. The two
 * differ only where a product sits within an ulp of a half-integer, so fp32(1/multiplier) and its nearest float32
 * neighbours are tried, each proved over every accumulator whose result is not saturated both ways (both rules are
 * monotone in acc, so beyond that window they agree); undefined when none is exact (MobileNetV2 RTN W8A8: 1 of 32).
 */
export function requantizingDivisor(multiplier: number, lo: number, hi: number, accBound: number): number | undefined {
  if (!(multiplier > 0)) return undefined;
  const bits = new Float32Array(1);
  const word = new Int32Array(bits.buffer);
  const first = Math.max(-accBound, Math.floor((lo - 1) / multiplier) - 1);
  const last = Math.min(accBound, Math.ceil((hi + 1) / multiplier) + 1);
  const clamp = (v: number) => Math.min(hi, Math.max(lo, roundHalfToEven(v)));
  for (const ulps of [0, 1, -1, 2, -2]) {
    bits[0] = 1 / multiplier;
    word[0] += ulps;
    const divisor = bits[0];
    let exact = true;
    for (let acc = first; acc <= last && exact; acc++) exact = clamp(Math.fround(acc * multiplier)) === clamp(Math.fround(acc / divisor));
    if (exact) return divisor;
  }
  return undefined;
}

/**
 * The ort-web flavour runs a dense Conv of fewer than ORT_WEB_MIN_QLINEAR_TERMS terms per output (input channels per
 * group × kernel taps) and at least ORT_WEB_MIN_FLOAT_PATH_OUTPUTS outputs as integer arithmetic on floats (below)
 * rather than as QLinearConv: onnxruntime-web's wasm u8·s8 GEMM widens every row of activations to int16, repacks the
 * weights for each of the ~5 slices of output pixels it computes and requantizes from an int32 buffer, a cost per
 * output row that only a long reduction amortizes; the float path's three extra element-wise nodes (and the layout
 * Transposes where it meets channels-last QLinearConvs) only pay off on large outputs. Measured in onnxruntime-web,
 * 1 thread, CPU time, interleaved, on a loaded machine: MobileNetV2 (its 1×1 expansions and early projections,
 * 75k–1.2M outputs) 30–33 ms against 38–40 ms with every such Conv a QLinearConv and 33–36 ms for its float model;
 * ResNet-8 (first conv and 1×1 shortcuts, 4k–16k outputs) 10–25 % slower on the float path, so left as QLinearConvs.
 */
export const ORT_WEB_MIN_QLINEAR_TERMS = 128;
export const ORT_WEB_MIN_FLOAT_PATH_OUTPUTS = 32768;

/**
 * Every flavour, ConvTranspose (no QLinear form exists); ort-web flavour, grouped (depthwise) Convs and short, large
 * dense Convs (see ORT_WEB_MIN_QLINEAR_TERMS): onnxruntime-web's wasm build has no SIMD uint8 depthwise
 * kernel (MobileNetV2's depthwise QLinearConvs run ~2× slower than its float ones) and a slow short-reduction GEMM
 * (see ORT_WEB_MIN_QLINEAR_TERMS), so these run as integer arithmetic on integer-valued floats, step for step
 * QLinearConv's (runtime/requant/onnx.ts):
 *   acc = Conv(x − zp_x, w, b)                      exact: every partial sum < 2^24 (checked: |b| + terms·255·max|w|)
 *   v = fp32(acc · fp32(fp32(s_x · s_w) / s_y))     Mul
 *   clamp v to [min − zp_y, max − zp_y]             Clip (fused ReLU / ReLU6 included)
 *   y = round half even (v) + zp_y, saturate        QuantizeLinear at scale 1
 * or, for a Conv without padding or with a stored input zero point of 0 (so that padding with 0 pads with zp_x), whose
 * clamp is the 8-bit range and where a divisor d is proved (requantizingDivisor):
 *   acc = Conv(Cast(x), Cast(w), b − zp_x·Σw)       exact: every partial sum < 2^24 (checked: |b| + 2·terms·255·max|w|)
 *   y = QuantizeLinear(acc, d, zp_y)                the same integers with one element-wise pass instead of two
 * undefined where that is not exact or not such a layer (the QDQ Conv is written instead).
 */
function integerConvPlan(node: Node, q: QuantizedGraph, uint8Activations: boolean): IntegerConvPlan | undefined {
  const transposed = node.op === 'ConvTranspose';
  if (!transposed && node.op !== 'Conv') return undefined;
  const [x, weight, bias] = node.inputs;
  const [gx, gy, w] = [q.activations.get(x), q.activations.get(node.outputs[0]), q.weights.get(weight)];
  const b = bias ? q.biases.get(bias) : undefined;
  const activation = String(node.attrs.activation ?? 'none');
  if (!gx || !gy || !w || w.zeroPoint !== 0 || w.channelScales || (bias && !b) || !['none', 'relu', 'relu6'].includes(activation)) return undefined;
  // Terms per output: a Conv's weight is [M, C, kh, kw]; a ConvTranspose's [C, M, kh, kw] sums over C and the taps.
  const terms = (transposed ? [w.shape[0], ...w.shape.slice(2)] : w.shape.slice(1)).reduce((a, d) => a * d, 1);
  const dense = !transposed && Number(node.attrs.group ?? 1) === 1;
  // Outputs per sample; a dynamic H×W counts as small (QLinearConv, as before this rule).
  const sample = q.graph.values.get(node.outputs[0])!.shape.slice(1);
  const outputs = isStatic(sample) ? sizeOf(sample) : 0;
  if (dense && (terms >= ORT_WEB_MIN_QLINEAR_TERMS || outputs < ORT_WEB_MIN_FLOAT_PATH_OUTPUTS)) return undefined;
  const maxW = w.values.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const maxB = b ? b.values.reduce((m, v) => Math.max(m, Math.abs(v)), 0) : 0;
  if (maxB + terms * 255 * maxW >= FLOAT32_EXACT_INTEGERS) return undefined;
  const multiplier = Math.fround(Math.fround(Math.fround(gx.scale) * Math.fround(w.scale)) / Math.fround(gy.scale));
  const min = activation === 'none' ? gy.qmin : Math.max(gy.qmin, gy.zeroPoint);
  const max = activation === 'relu6' ? Math.min(gy.qmax, gy.zeroPoint + Math.floor(Math.fround(6 / Math.fround(gy.scale)) + 0.5)) : gy.qmax;
  const [lo, hi] = [min - gy.zeroPoint, max - gy.zeroPoint];
  const saturating = lo === INT8_MIN - gy.zeroPoint && hi === INT8_MAX - gy.zeroPoint;
  // A Conv pads its Cast input with 0: exact when it has no padding or the stored input zero point is 0 (ReLU outputs).
  const storedZeroPoint = gx.zeroPoint + (uint8Activations ? 128 : 0);
  const castPadsExactly = !transposed && (storedZeroPoint === 0 || ((node.attrs.pads as readonly number[] | undefined) ?? []).every((p) => p === 0));
  // The Cast input's folded bias b − zp·Σw adds up to terms·255·max|w| to every partial sum.
  const castExact = maxB + 2 * terms * 255 * maxW < FLOAT32_EXACT_INTEGERS;
  return { multiplier, lo, hi, divisor: saturating && castPadsExactly && castExact ? requantizingDivisor(multiplier, lo, hi, maxB + terms * 255 * maxW) : undefined };
}

/** The nodes of an integer-arithmetic Conv (see integerConvPlan), writing activation `out`. */
function integerConvNodes(node: Node, plan: IntegerConvPlan, out: string, b: QdqBuilder): void {
  const a = node.attrs;
  const list = (k: string, d: readonly number[]) => (a[k] as readonly number[] | undefined) ?? d;
  const [acc, v, clamped] = [`${out}.acc`, `${out}.v`, `${out}.clamped`];
  const attribute = [intsAttribute('kernel_shape', list('kernel', [])), intsAttribute('strides', list('strides', [1, 1])), intsAttribute('pads', list('pads', [0, 0, 0, 0])), intsAttribute('dilations', list('dilations', [1, 1])), intAttribute('group', Number(a.group))];
  if (plan.divisor !== undefined) {
    // Conv(q, w, b − zp·Σw) = Conv(q − zp, w, b) without padding, or with padding when zp = 0. No DequantizeLinear may
    // feed this Conv: onnxruntime's WeightBiasQuantization and QDQ fusion would turn DQ → Conv → Q into a QLinearConv
    // with weights it quantizes itself. The weights' Cast runs once, at session start (constant folding).
    const [x, weight] = node.inputs;
    const input = [b.castActivation(x), b.castWeight(weight), b.foldedBias(node)];
    b.nodes.push({ name: node.name, opType: node.op, input, output: [acc], attribute });
    b.quantizeRequantized(acc, out, b.scalar(`${node.name}/divisor`, plan.divisor));
    return;
  }
  const inputs = node.inputs.map((x) => (x === '' ? '' : b.integerInput(x)));
  b.nodes.push(
    { name: node.name, opType: node.op, input: inputs, output: [acc], attribute },
    { name: `${node.name}/Mul`, opType: 'Mul', input: [acc, b.scalar(`${node.name}/multiplier`, plan.multiplier)], output: [v] },
    { name: `${node.name}/Clip`, opType: 'Clip', input: [v, b.scalar(`${node.name}/clip.lo`, plan.lo), b.scalar(`${node.name}/clip.hi`, plan.hi)], output: [clamped] },
  );
  b.quantizeRequantized(clamped, out, b.scalar('flexq/one', 1));
}

/**
 * Mul in the uint8-activation flavours. onnxruntime's QLinearMul (MLAS) adds the output zero point in float before it
 * rounds, rne(fp32(fp32(acc·scale) + zp)), so the uint8 zero point zp + 128 rounds some ties differently from the int8
 * one that the generic flavour's QLinearMul and the runtime (runtime/kernels/mul.ts onnxMul) use: ppocr-cls with 7-bit
 * weights, 1 of 159,744 squeeze-excite outputs one step apart, and 27 activations downstream. These flavours write
 * QLinearMul's int8 arithmetic as float steps that onnxruntime computes exactly and leaves unfused:
 *   acc = (a − za)·(b − zb)                 Mul of scale-1 DequantizeLinears: exact, |acc| ≤ 255² < 2^24
 *   v = fp32(acc · fp32(fp32(sa·sb) / sy))  Mul
 *   v = fp32(v + zy)                        Add (none when zy = 0)
 *   clamp v to [qmin, qmax]                 Clip (integer bounds: the same as saturating after rounding)
 *   y = rne(v) + 128                        QuantizeLinear at scale 1 onto uint8 128, int8 0
 */
function zeroPointExactMulNodes(node: Node, out: string, q: QuantizedGraph, b: QdqBuilder): void {
  const [ga, gb, gy] = [q.activations.get(node.inputs[0]), q.activations.get(node.inputs[1]), q.activations.get(out)!];
  if (!ga || !gb) fail('MISSING_TENSOR', `${q.graph.source}: node '${node.name}' (Mul): both inputs need activation grids; re-quantize the model`);
  const f32 = Math.fround;
  const scale = f32(f32(f32(ga.scale) * f32(gb.scale)) / f32(gy.scale));
  const [acc, v, shifted, clamped] = [`${out}.acc`, `${out}.v`, `${out}.shifted`, `${out}.clamped`];
  b.nodes.push(
    { name: node.name, opType: 'Mul', input: node.inputs.map((x) => b.integerInput(x)), output: [acc] },
    { name: `${node.name}/Mul`, opType: 'Mul', input: [acc, b.scalar(`${node.name}/multiplier`, scale)], output: [v] },
  );
  if (gy.zeroPoint !== 0) b.nodes.push({ name: `${node.name}/Add`, opType: 'Add', input: [v, b.scalar(`${node.name}/zero_point`, gy.zeroPoint)], output: [shifted] });
  const lo = b.scalar(`${node.name}/clip.lo`, gy.qmin);
  const hi = b.scalar(`${node.name}/clip.hi`, gy.qmax);
  b.nodes.push({ name: `${node.name}/Clip`, opType: 'Clip', input: [gy.zeroPoint !== 0 ? shifted : v, lo, hi], output: [clamped] });
  b.quantizeWithZeroPointAdded(clamped, out);
}

/** The ONNX op set the graph needs: QDQ_OPSET, or 14 for HardSwish and Reshape's allowzero. */
function opsetOf(graph: Graph): number {
  return graph.nodes.some((n) => n.op === 'HardSwish' || (n.op === 'Reshape' && Number(n.attrs.allowzero ?? 0) === 1)) ? 14 : QDQ_OPSET;
}

/** The QDQ model of a quantized graph, encoded (see the layout at the top). */
export function buildQdqModel(q: QuantizedGraph, o: QdqOptions): Uint8Array {
  const { graph } = q;
  if (q.activations.size === 0)
    fail('UNSUPPORTED_ATTR', `${graph.source}: quantized with --abits 32 (float activations); the ONNX QDQ export needs quantized activations: quantize with --abits 8`);
  const flavour = o.flavour ?? 'generic';
  if (!QDQ_FLAVOURS.includes(flavour)) fail('BAD_ARGUMENT', `ONNX QDQ flavour '${String(flavour)}': expected one of ${QDQ_FLAVOURS.join(', ')}`);
  if (flavour === 'ort-node') {
    const bad = weightOutsideOrtNodeRange(q);
    if (bad)
      fail(
        'UNSUPPORTED_ATTR',
        `${graph.source}: node '${bad.node.name}' (${bad.node.op}): weight '${bad.weight}' has integer ${bad.value}, outside [${ORT_NODE_WEIGHT_RANGE.qmin}, ${ORT_NODE_WEIGHT_RANGE.qmax}]; ` +
          `onnxruntime-node's u8s8 kernels would saturate: re-quantize with the 7-bit weight range (weightRange 'int7'), or export the 'generic' or 'ort-web' flavour`,
      );
  }
  const act = hasUint8Activations(flavour) ? ONNX_TYPE.uint8 : ONNX_TYPE.int8;
  const b = new QdqBuilder(q, hasUint8Activations(flavour));
  const shapeOf = (name: string) => graph.values.get(name)!.shape;
  for (const input of graph.inputs) {
    if (!q.activations.has(input)) fail('MISSING_TENSOR', `${graph.source}: graph input '${input}' has no activation grid; re-quantize the model`);
    if (o.io === 'float') b.quantize(`${input}.f`, input);
  }
  for (const node of graph.nodes) {
    const where = `${graph.source}: node '${node.name}' (${node.op})`;
    const outputs = node.outputs.filter((x) => x !== '');
    if (outputs.length !== 1) fail('UNSUPPORTED_ATTR', `${where}: ${outputs.length} outputs; the QDQ export writes single-output nodes`);
    const out = outputs[0];
    if (!q.activations.has(out)) fail('MISSING_TENSOR', `${where}: output '${out}' has no activation grid; re-quantize the model`);
    // A transposed conv has no QDQ fusion in onnxruntime: it always runs as integer arithmetic (exact, as the runtime).
    const plan = flavour === 'ort-web' || node.op === 'ConvTranspose' ? integerConvPlan(node, q, hasUint8Activations(flavour)) : undefined;
    if (plan) {
      integerConvNodes(node, plan, out, b);
      continue;
    }
    if (node.op === 'Mul' && hasUint8Activations(flavour)) {
      zeroPointExactMulNodes(node, out, q, b);
      continue;
    }
    const inputs = node.inputs.map((x) => b.input(x, where));
    b.nodes.push(...onnxNodes(node, inputs, `${out}.f`, b));
    b.quantize(`${out}.f`, out);
  }
  const extra = (o.extraOutputs ?? []).filter((v) => !graph.outputs.includes(v));
  for (const v of extra) if (!q.activations.has(v)) fail('MISSING_TENSOR', `${graph.source}: no activation named '${v}' to expose as an output`);
  const outputs = graph.outputs.map((v) => {
    if (o.io === 'int8') return valueInfo(v, act, shapeOf(v));
    b.input(v, graph.source); // DequantizeLinear of the output, renamed to the output's own name below
    return valueInfo(`${v}.dq`, FLOAT, shapeOf(v));
  });
  const renames = new Map<string, string>();
  if (o.io === 'float') {
    for (const v of graph.inputs) renames.set(`${v}.f`, v);
    for (const v of graph.inputs) renames.set(v, `${v}.q`);
    for (const v of graph.outputs) {
      renames.set(v, `${v}.q`);
      renames.set(`${v}.dq`, v);
    }
  }
  const rename = (x: string) => renames.get(x) ?? x;
  const nodes = b.nodes.map((n) => ({ ...n, input: n.input!.map(rename), output: n.output!.map(rename) }));
  const graphProto: GraphProto = {
    name: graph.name || 'flexq',
    node: nodes,
    initializer: b.initializers,
    input: graph.inputs.map((v) => valueInfo(v, o.io === 'float' ? FLOAT : act, shapeOf(v))),
    output: [...outputs.map((x) => ({ ...x, name: rename(x.name!) })), ...extra.map((v) => valueInfo(rename(v), act, shapeOf(v)))],
  };
  return encodeModel(graphProto, {
    opset: opsetOf(graph),
    producerName: 'flexq',
    producerVersion: FLEXQ_VERSION,
    docString: `flexq ${q.info.method} W${q.info.wbits}A${q.info.abits} QDQ export (${flavour} flavour) of ${q.info.model}`,
    metadata: { 'flexq.flavour': flavour },
  });
}

/** The name an activation's int8 tensor has in a QDQ model built with `io` (graph I/O of a float model get '.q'). */
export function qdqTensorName(q: QuantizedGraph, io: QdqOptions['io'], value: string): string {
  const boundary = q.graph.inputs.includes(value) || q.graph.outputs.includes(value);
  return io === 'float' && boundary ? `${value}.q` : value;
}

/** `flexq export --format onnx-qdq`: writes the QDQ model (flavour default 'generic') to `output` atomically. */
export async function exportOnnxQdq(q: QuantizedGraph, output: string, o: { readonly io: 'float' | 'int8'; readonly flavour?: QdqFlavour }): Promise<string[]> {
  writeFileAtomic(output, buildQdqModel(q, { io: o.io, flavour: o.flavour }));
  return [output];
}
