// Trains the demo's tiny CNN on synthetic bars with TensorFlow.js and writes it as an ONNX model.
// Conv(1→8)+Relu → MaxPool 2 → Conv(8→16)+Relu → GlobalAveragePool → Gemm(16→4).
import pkg from 'onnx-proto';
import { tf, tfjsReady } from '../exec/tfjs-runtime.js';
import { BAR_CLASSES, BAR_SIZE, drawBars, normal, seededStream, type BarSet } from './synthetic-bars.js';

const { onnx } = pkg;

/** The parameters by ONNX initializer name, with their ONNX shapes (Conv weight OIHW, Gemm B [out, in]). */
const PARAMETER_SHAPES = {
  'conv1.weight': [8, 1, 3, 3],
  'conv1.bias': [8],
  'conv2.weight': [16, 8, 3, 3],
  'conv2.bias': [16],
  'fc.weight': [BAR_CLASSES.length, 16],
  'fc.bias': [BAR_CLASSES.length],
} as const;

type ParameterName = keyof typeof PARAMETER_SHAPES;
const PARAMETER_NAMES = Object.keys(PARAMETER_SHAPES) as ParameterName[];

/** Trained parameters in ONNX layouts, by initializer name. */
export type DemoWeights = Readonly<Record<ParameterName, Float32Array>>;

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

/** The network's forward pass: NHWC images in [0, 1] → logits [N, 4]. */
function demoForward(p: Readonly<Record<ParameterName, tf.Tensor>>, images: tf.Tensor4D): tf.Tensor2D {
  const convRelu = (x: tf.Tensor4D, weight: tf.Tensor, bias: tf.Tensor): tf.Tensor4D =>
    tf.relu(tf.add<tf.Tensor4D>(conv3x3(x, tf.transpose(weight, OIHW_TO_HWIO) as tf.Tensor4D), bias));
  const pooled = tf.maxPool(convRelu(images, p['conv1.weight'], p['conv1.bias']), 2, 2, 'valid');
  const features = tf.mean(convRelu(pooled, p['conv2.weight'], p['conv2.bias']), [1, 2]) as tf.Tensor2D;
  return tf.add(tf.matMul(features, p['fc.weight'], false, true), p['fc.bias']);
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
  const init = (name: ParameterName): Float32Array => {
    const [, ...fanIn] = PARAMETER_SHAPES[name];
    const std = Math.sqrt(2 / product(fanIn));
    const size = product(PARAMETER_SHAPES[name]);
    return fanIn.length === 0 ? new Float32Array(size) : Float32Array.from({ length: size }, () => std * normal(random));
  };
  return Object.fromEntries(PARAMETER_NAMES.map((name) => [name, init(name)])) as DemoWeights;
}

const asTensors = (weights: DemoWeights): Record<ParameterName, tf.Tensor> =>
  Object.fromEntries(PARAMETER_NAMES.map((name) => [name, tf.tensor(weights[name], [...PARAMETER_SHAPES[name]])])) as Record<ParameterName, tf.Tensor>;

/** Adam on fresh synthetic batches for a fixed number of steps: same seed, same weights, byte for byte. */
export async function trainDemoModel(seed: number, onProgress?: TrainProgress): Promise<TrainedDemoModel> {
  await tfjsReady();
  const start = performance.now();
  const initial = asTensors(initialWeights(seed));
  const variables = Object.fromEntries(PARAMETER_NAMES.map((name) => [name, tf.variable(initial[name])])) as Record<ParameterName, tf.Variable>;
  tf.dispose(Object.values(initial));
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
    const weights = Object.fromEntries(PARAMETER_NAMES.map((name) => [name, variables[name].dataSync() as Float32Array])) as DemoWeights;
    return { weights, seconds: (performance.now() - start) / 1000 };
  } finally {
    optimizer.dispose();
    tf.dispose(Object.values(variables));
  }
}

/** The trained network's logits [N, 4] for some bars, computed by TensorFlow.js (the reference the ONNX file must match). */
export async function demoLogits(weights: DemoWeights, bars: BarSet): Promise<Float32Array> {
  await tfjsReady();
  const logits = tf.tidy(() => demoForward(asTensors(weights), imageBatch(bars.images)));
  const values = (await logits.data()) as Float32Array;
  logits.dispose();
  return values;
}

/** A float initializer with little-endian raw_data, as ONNX stores it on every platform. */
function floatInitializer(name: string, dims: readonly number[], values: Float32Array): pkg.onnx.ITensorProto {
  const rawData = new Uint8Array(4 * values.length);
  const view = new DataView(rawData.buffer);
  values.forEach((v, i) => view.setFloat32(4 * i, v, true));
  return { name, dataType: onnx.TensorProto.DataType.FLOAT, dims: [...dims], rawData };
}

/** A node whose one output carries its name; attributes are ints or int lists. */
function node(opType: string, name: string, inputs: readonly string[], attributes: Readonly<Record<string, number | readonly number[]>> = {}): pkg.onnx.INodeProto {
  const { INT, INTS } = onnx.AttributeProto.AttributeType;
  const attribute = Object.entries(attributes).map(([key, v]) => (typeof v === 'number' ? { name: key, type: INT, i: v } : { name: key, type: INTS, ints: [...v] }));
  return { opType, name, input: [...inputs], output: [name], attribute };
}

function floatValueInfo(name: string, dims: readonly number[]): pkg.onnx.IValueInfoProto {
  return { name, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: dims.map((dimValue) => ({ dimValue })) } } } };
}

/** The trained network as an ONNX model (opset 13, IR 8): input `image` [1,1,16,16] in [0, 1], output `logits` [1,4]. */
export function encodeDemoOnnx(weights: DemoWeights): Uint8Array {
  const conv3x3 = { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [1, 1] };
  const graph: pkg.onnx.IGraphProto = {
    name: 'synthetic-bars-cnn',
    input: [floatValueInfo('image', [1, 1, BAR_SIZE, BAR_SIZE])],
    output: [floatValueInfo('logits', [1, BAR_CLASSES.length])],
    initializer: PARAMETER_NAMES.map((name) => floatInitializer(name, PARAMETER_SHAPES[name], weights[name])),
    node: [
      node('Conv', 'conv1', ['image', 'conv1.weight', 'conv1.bias'], conv3x3),
      node('Relu', 'relu1', ['conv1']),
      node('MaxPool', 'pool1', ['relu1'], { kernel_shape: [2, 2], strides: [2, 2] }),
      node('Conv', 'conv2', ['pool1', 'conv2.weight', 'conv2.bias'], conv3x3),
      node('Relu', 'relu2', ['conv2']),
      node('GlobalAveragePool', 'pool2', ['relu2']),
      node('Flatten', 'flatten', ['pool2'], { axis: 1 }),
      node('Gemm', 'logits', ['flatten', 'fc.weight', 'fc.bias'], { transB: 1 }),
    ],
  };
  const model = onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: 13 }], producerName: 'flexq demo', graph });
  return onnx.ModelProto.encode(model).finish();
}
