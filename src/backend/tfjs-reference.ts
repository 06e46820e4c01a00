// The TensorFlow.js backend: every gradient comes from tf.grads (autodiff), which makes it the reference the
// fast backends are checked against. On the cpu engine and tfjs-node it is pure autodiff; on wasm the
// convolution carries forward-kernel gradients (tfjs-conv.ts) because wasm lacks the backprop-filter kernels.
import { tf, tfjsReady } from '../exec/tfjs-runtime.js';
import { fail } from '../errors.js';
import type { ConvParams, Gradients, Tensor, TensorBackend } from './backend.js';
import { convGeometry } from './conv-geometry.js';
import { convNhwc, needsCustomConvGradient } from './tfjs-conv.js';

/** A tfjs engine: 'wasm' (the float executor's, single-threaded), 'cpu' (plain JS), 'tensorflow' (tfjs-node, when installed). */
export type TfjsEngine = 'wasm' | 'cpu' | 'tensorflow';

const NCHW_TO_NHWC = [0, 2, 3, 1];
const NHWC_TO_NCHW = [0, 3, 1, 2];
const OIHW_TO_HWIO = [2, 3, 1, 0];
const HWIO_TO_OIHW = [3, 2, 0, 1];

const nhwc = (t: Tensor): tf.Tensor4D => tf.tensor4d(t.data, t.shape as [number, number, number, number]).transpose(NCHW_TO_NHWC);
const hwio = (t: Tensor): tf.Tensor4D => tf.tensor4d(t.data, t.shape as [number, number, number, number]).transpose(OIHW_TO_HWIO);
const read = (t: tf.Tensor): Float32Array => t.dataSync() as Float32Array;

/** Makes `engine` the active tfjs backend; gives back the one that was active. */
async function activate(engine: TfjsEngine): Promise<string> {
  // The float executor's backend comes up first, so there is always a started backend to give back.
  await tfjsReady();
  const previous = tf.getBackend();
  if (previous !== engine && !(await tf.setBackend(engine)))
    fail('BACKEND_UNAVAILABLE', `tfjs backend '${engine}' could not start (registered: ${Object.keys(tf.engine().registryFactory).join(', ')})`);
  return previous;
}

/**
 * A TensorBackend on TensorFlow.js. Each call runs on `engine` and restores the previously active tfjs backend,
 * so the float executor (which runs on wasm) is not moved by a reference computation in the same process.
 */
export async function createTfjsBackend(engine: TfjsEngine = 'cpu'): Promise<TensorBackend> {
  const initial = await activate(engine);
  if (initial !== engine) await tf.setBackend(initial);
  const customGradient = needsCustomConvGradient(engine);

  async function onEngine<R>(compute: () => R): Promise<R> {
    const previous = await activate(engine);
    tf.engine().startScope();
    try {
      return compute();
    } finally {
      tf.engine().endScope();
      if (previous !== engine) await tf.setBackend(previous);
    }
  }

  return {
    name: `tfjs-${engine}`,

    conv2d: (x: Tensor, w: Tensor, bias: Float32Array | undefined, p: ConvParams) =>
      onEngine(() => {
        const g = convGeometry(x, w, p);
        let y = convNhwc(nhwc(x), hwio(w), g, customGradient);
        if (bias) y = y.add(tf.tensor1d(bias));
        return { shape: [g.n, g.cout, g.ho, g.wo], data: read(y.transpose(NHWC_TO_NCHW)) };
      }),

    conv2dBackward: (x: Tensor, w: Tensor, dy: Tensor, p: ConvParams, needInput: boolean) =>
      onEngine((): Gradients => {
        const g = convGeometry(x, w, p);
        const dyNhwc = nhwc(dy);
        const b = tf.zeros([g.cout]);
        const xt = nhwc(x);
        const wt = hwio(w);
        const forward = (xi: tf.Tensor, wi: tf.Tensor, bi: tf.Tensor) => convNhwc(xi as tf.Tensor4D, wi as tf.Tensor4D, g, customGradient).add(bi);
        const [dwHwio, db, dx] = needInput
          ? (([gx, gw, gb]) => [gw, gb, gx])(tf.grads(forward)([xt, wt, b], dyNhwc))
          : tf.grads((wi: tf.Tensor, bi: tf.Tensor) => forward(xt, wi, bi))([wt, b], dyNhwc);
        return {
          dw: { shape: w.shape, data: read(dwHwio.transpose(HWIO_TO_OIHW)) },
          db: read(db),
          ...(dx ? { dx: { shape: x.shape, data: read(dx.transpose(NHWC_TO_NCHW)) } } : {}),
        };
      }),

    gemm: (x: Tensor, w: Tensor, bias: Float32Array | undefined) =>
      onEngine(() => {
        let y = tf.matMul(tf.tensor2d(x.data, x.shape as [number, number]), tf.tensor2d(w.data, w.shape as [number, number]), false, true);
        if (bias) y = y.add(tf.tensor1d(bias));
        return { shape: y.shape, data: read(y) };
      }),

    gemmBackward: (x: Tensor, w: Tensor, dy: Tensor, needInput: boolean) =>
      onEngine((): Gradients => {
        const xt = tf.tensor2d(x.data, x.shape as [number, number]);
        const wt = tf.tensor2d(w.data, w.shape as [number, number]);
        const dyt = tf.tensor2d(dy.data, dy.shape as [number, number]);
        const b = tf.zeros([w.shape[0]]);
        const forward = (xi: tf.Tensor, wi: tf.Tensor, bi: tf.Tensor) => tf.matMul(xi, wi, false, true).add(bi);
        const [dw, db, dx] = needInput
          ? (([gx, gw, gb]) => [gw, gb, gx])(tf.grads(forward)([xt, wt, b], dyt))
          : tf.grads((wi: tf.Tensor, bi: tf.Tensor) => forward(xt, wi, bi))([wt, b], dyt);
        return { dw: { shape: w.shape, data: read(dw) }, db: read(db), ...(dx ? { dx: { shape: x.shape, data: read(dx) } } : {}) };
      }),

    dispose: async () => {},
  };
}
