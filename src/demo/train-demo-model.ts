// Trains the demo's tiny CNN on synthetic bars with TensorFlow.js and writes it as an ONNX model.
// The architecture is one table (DEMO_CONVS, DEMO_DENSES) that both the tfjs forward pass and the ONNX writer read:
// 3×3 Conv + Relu (+ MaxPool 2) per conv row, GlobalAveragePool + Flatten, then Gemm (+ Relu except the last) per
// dense row. Several narrow weighted layers between the first and the last (which stay 8-bit) give low-bit
// rounding something to get wrong: that is where FlexRound beats rounding-to-nearest.
import { encodeModel, intAttributes, ONNX_TYPE, rawTensor, valueInfo, type GraphProto, type NodeProto } from '../onnx-writer.js';
import { tf, tfjsReady } from '../exec/tfjs-runtime.js';
import { BAR_CLASSES, BAR_SIZE, drawBars, normal, seededStream, type BarSet } from './synthetic-bars.js';


interface ConvLayer { readonly name: string; readonly inputs: number; readonly outputs: number; readonly maxPool: boolean }
interface DenseLayer { readonly name: string; readonly inputs: number; readonly outputs: number }

export const DEMO_CONVS: readonly ConvLayer[] = [
  { name: 'conv1', inputs: 1, outputs: 8, maxPool: true },
  { name: 'conv2', inputs: 8, outputs: 8, maxPool: false },
  { name: 'conv3', inputs: 8, outputs: 16, maxPool: true },
  { name: 'conv4', inputs: 16, outputs: 16, maxPool: false },
];
export const DEMO_DENSES: readonly DenseLayer[] = [
  { name: 'fc1', inputs: 16, outputs: 16 },
  { name: 'fc2', inputs: 16, outputs: BAR_CLASSES.length },
];

/** The parameters by ONNX initializer name, with their ONNX shapes (Conv weight OIHW, Gemm B [out, in]). */
const PARAMETER_SHAPES: ReadonlyMap<string, readonly number[]> = new Map<string, readonly number[]>([
  ...DEMO_CONVS.flatMap((l): [string, number[]][] => [[`${l.name}.weight`, [l.outputs, l.inputs, 3, 3]], [`${l.name}.bias`, [l.outputs]]]),
  ...DEMO_DENSES.flatMap((l): [string, number[]][] => [[`${l.name}.weight`, [l.outputs, l.inputs]], [`${l.name}.bias`, [l.outputs]]]),
]);
const PARAMETER_NAMES = [...PARAMETER_SHAPES.keys()];
const shapeOf = (name: string): number[] => [...PARAMETER_SHAPES.get(name)!];

/** Trained parameters in ONNX layouts, by initializer name. */
export type DemoWeights = ReadonlyMap<string, Float32Array>;

export const TRAIN_STEPS = 400;
const BATCH = 32;
const LEARNING_RATE = 0.01;
const LOG_EVERY = 50;

export type TrainProgress = (step: number, steps: number, loss: number) => void;

export interface TrainedDemoModel {
  readonly weights: DemoWeights;
  readonly seconds: number;
}

/** OIHW (ONNX) → HWIO (tfjs): the weights live in ONNX layout and the forward pass transposes, so export needs no conversion. */
const OIHW_TO_HWIO = [2, 3, 1, 0];

const PAD_1: [number, number][] = [[0, 0], [1, 1], [1, 1], [0, 0]];

/** dW[kh,kw,ci,co] = Σ xpad[n,y+kh,x+kw,ci]·dy[n,y,x,co]: a valid conv with ci as the batch and n as the channels. */
function conv3x3KernelGradient(x: tf.Tensor4D, dy: tf.Tensor4D): tf.Tensor4D {
  const channelsAsBatch = tf.transpose(tf.pad(x, PAD_1), [3, 1, 2, 0]); // [Ci, H+2, W+2, N]
  const gradientAsFilter = tf.transpose(dy, [1, 2, 0, 3]); // [H, W, N, Co]
  return tf.transpose(tf.conv2d(channelsAsBatch, gradientAsFilter, 1, 'valid'), [1, 2, 0, 3]); // [Ci,3,3,Co] → HWIO
}

/**
 * tf.conv2d (3×3, pads 1, NHWC, HWIO) with its kernel gradient as a forward conv: the wasm backend has no
 * Conv2DBackpropFilter, and the cpu backend's made training take 190 s instead of 3 s.
 */
const conv3x3 = tf.customGrad((...args) => {
  const [x, kernel, save] = args as [tf.Tensor4D, tf.Tensor4D, tf.GradSaveFunc];
  save([x, kernel]);
  return {
    value: tf.conv2d(x, kernel, 1, 'same'),
    gradFunc: (dy, saved) => {
      const [input, weight] = saved as tf.Tensor4D[];
      return [tf.conv2dTranspose(dy, weight, input.shape, 1, 'same'), conv3x3KernelGradient(input, dy)];
    },
  };
}) as (x: tf.Tensor4D, kernel: tf.Tensor4D) => tf.Tensor4D;

/** The network's forward pass: NHWC images in [0, 1] → logits [N, classes]. */
function demoForward(p: ReadonlyMap<string, tf.Tensor>, images: tf.Tensor4D): tf.Tensor2D {
  let x = images;
  for (const l of DEMO_CONVS) {
    const kernel = tf.transpose(p.get(`${l.name}.weight`)!, OIHW_TO_HWIO) as tf.Tensor4D;
    x = tf.relu(tf.add<tf.Tensor4D>(conv3x3(x, kernel), p.get(`${l.name}.bias`)!));
    if (l.maxPool) x = tf.maxPool(x, 2, 2, 'valid');
  }
  let y = tf.mean(x, [1, 2]) as tf.Tensor2D;
  DEMO_DENSES.forEach((l, i) => {
    y = tf.add(tf.matMul(y, p.get(`${l.name}.weight`)!, false, true), p.get(`${l.name}.bias`)!);
    if (i < DEMO_DENSES.length - 1) y = tf.relu(y);
  });
  return y;
}

/** uint8 images → [N, 16, 16, 1] in [0, 1]: with one channel NHWC and NCHW are the same bytes, so this is also the ONNX input. */
function imageBatch(images: readonly Uint8Array[]): tf.Tensor4D {
  const values = new Float32Array(images.length * BAR_SIZE * BAR_SIZE);
  images.forEach((image, i) => image.forEach((v, k) => (values[i * image.length + k] = v / 255)));
  return tf.tensor4d(values, [images.length, BAR_SIZE, BAR_SIZE, 1]);
}

const product = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);

/** He-normal weights and zero biases from the seed's own stream (tf's initialisers would not take our PRNG). */
function initialWeights(seed: number): DemoWeights {
  const random = seededStream(seed, 'weights');
  const init = (name: string): Float32Array => {
    const [, ...fanIn] = shapeOf(name);
    const std = Math.sqrt(2 / product(fanIn));
    const size = product(shapeOf(name));
    return fanIn.length === 0 ? new Float32Array(size) : Float32Array.from({ length: size }, () => std * normal(random));
  };
  return new Map(PARAMETER_NAMES.map((name) => [name, init(name)]));
}

const asTensors = (weights: DemoWeights): Map<string, tf.Tensor> => new Map(PARAMETER_NAMES.map((name) => [name, tf.tensor(weights.get(name)!, shapeOf(name))]));

/** Adam on fresh synthetic batches for a fixed number of steps: same seed, same weights, byte for byte. */
export async function trainDemoModel(seed: number, onProgress?: TrainProgress): Promise<TrainedDemoModel> {
  await tfjsReady();
  const start = performance.now();
  const initial = asTensors(initialWeights(seed));
  const variables = new Map(PARAMETER_NAMES.map((name) => [name, tf.variable(initial.get(name)!)]));
  tf.dispose([...initial.values()]);
  const optimizer = tf.train.adam(LEARNING_RATE);
  const random = seededStream(seed, 'train');
  try {
    for (let step = 1; step <= TRAIN_STEPS; step++) {
      const batch = drawBars(BATCH, random);
      const loss = tf.tidy(() => {
        const images = imageBatch(batch.images);
        const targets = tf.oneHot(tf.tensor1d([...batch.labels], 'int32'), BAR_CLASSES.length);
        return optimizer.minimize(() => tf.losses.softmaxCrossEntropy(targets, demoForward(variables, images)), true)!;
      });
      if (onProgress && (step % LOG_EVERY === 0 || step === TRAIN_STEPS)) onProgress(step, TRAIN_STEPS, (await loss.data())[0]);
      loss.dispose();
    }
    const weights = new Map(PARAMETER_NAMES.map((name) => [name, variables.get(name)!.dataSync() as Float32Array]));
    return { weights, seconds: (performance.now() - start) / 1000 };
  } finally {
    optimizer.dispose();
    tf.dispose([...variables.values()]);
  }
}

/** The trained network's logits [N, classes] for some bars, computed by TensorFlow.js (the reference the ONNX file must match). */
export async function demoLogits(weights: DemoWeights, bars: BarSet): Promise<Float32Array> {
  await tfjsReady();
  const logits = tf.tidy(() => demoForward(asTensors(weights), imageBatch(bars.images)));
  const values = (await logits.data()) as Float32Array;
  logits.dispose();
  return values;
}

/** A node whose one output carries its name; attributes are ints or int lists. */
function node(opType: string, name: string, inputs: readonly string[], attributes: Readonly<Record<string, number | readonly number[]>> = {}): NodeProto {
  return { opType, name, input: [...inputs], output: [name], attribute: intAttributes(attributes) };
}

/** The ONNX nodes of the architecture table: conv rows, global pooling, dense rows; the last Gemm is `logits`. */
function demoNodes(): NodeProto[] {
  const conv3x3 = { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [1, 1] };
  const nodes: NodeProto[] = [];
  let x = 'image';
  let relus = 0;
  const add = (n: NodeProto): void => {
    nodes.push(n);
    x = n.name!;
  };
  DEMO_CONVS.forEach((l, i) => {
    add(node('Conv', l.name, [x, `${l.name}.weight`, `${l.name}.bias`], conv3x3));
    add(node('Relu', `relu${++relus}`, [x]));
    if (l.maxPool) add(node('MaxPool', `pool${i + 1}`, [x], { kernel_shape: [2, 2], strides: [2, 2] }));
  });
  add(node('GlobalAveragePool', 'gap', [x]));
  add(node('Flatten', 'flatten', [x], { axis: 1 }));
  DEMO_DENSES.forEach((l, i) => {
    const last = i === DEMO_DENSES.length - 1;
    add(node('Gemm', last ? 'logits' : l.name, [x, `${l.name}.weight`, `${l.name}.bias`], { transB: 1 }));
    if (!last) add(node('Relu', `relu${++relus}`, [x]));
  });
  return nodes;
}

/** The trained network as an ONNX model (opset 13, IR 8): input `image` [1,1,16,16] in [0, 1], output `logits` [1, classes]. */
export function encodeDemoOnnx(weights: DemoWeights): Uint8Array {
  const graph: GraphProto = {
    name: 'synthetic-bars-cnn',
    input: [valueInfo('image', ONNX_TYPE.float32, [1, 1, BAR_SIZE, BAR_SIZE])],
    output: [valueInfo('logits', ONNX_TYPE.float32, [1, BAR_CLASSES.length])],
    initializer: PARAMETER_NAMES.map((name) => rawTensor(name, 'float32', shapeOf(name), weights.get(name)!)),
    node: demoNodes(),
  };
  return encodeModel(graph, { opset: 13, producerName: 'flexq demo' });
}
