// The TensorFlow.js backend: every gradient comes from tf.grads (autodiff), which makes it the reference the
// fast backends are checked against. On the cpu, webgpu and tfjs-node engines it is pure autodiff; on wasm the
// convolution carries forward-kernel gradients (tfjs-conv.ts) because wasm lacks the backprop-filter kernels.
import { tf, tfjsReady } from '../exec/tfjs-runtime.js';
import { fail } from '../errors.js';
import type { ConvParams, Gradients, TensorBackend } from './backend.js';
import { convGeometry } from './conv-geometry.js';
import { convNhwc, needsCustomConvGradient } from './tfjs-conv.js';
import type { FloatTensor } from '../tensor.js';

/**
 * A tfjs engine: 'wasm' (the float executor's, single-threaded), 'cpu' (plain JS), 'tensorflow' (tfjs-node, when
 * installed), 'webgpu' (tfjs-backend-webgpu on Dawn: started by startTfjsWebGpu first).
 */
export type TfjsEngine = 'wasm' | 'cpu' | 'tensorflow' | 'webgpu';

const NCHW_TO_NHWC = [0, 2, 3, 1];
const NHWC_TO_NCHW = [0, 3, 1, 2];
const OIHW_TO_HWIO = [2, 3, 1, 0];
const HWIO_TO_OIHW = [3, 2, 0, 1];

const nhwc = (t: FloatTensor): tf.Tensor4D => tf.tensor4d(t.data, t.shape as [number, number, number, number]).transpose(NCHW_TO_NHWC);
const hwio = (t: FloatTensor): tf.Tensor4D => tf.tensor4d(t.data, t.shape as [number, number, number, number]).transpose(OIHW_TO_HWIO);
/** The tensors a computation gives back; read asynchronously (the webgpu engine cannot read synchronously in Node). */
type Outputs = Record<string, tf.Tensor | undefined>;
type Read<R extends Outputs> = { [K in keyof R]: R[K] extends tf.Tensor ? Float32Array : undefined };

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

  // One computation at a time: each switches the process-wide tfjs backend and reads its results asynchronously.
  let queue: Promise<unknown> = Promise.resolve();
  function onEngine<R extends Outputs>(compute: () => R): Promise<Read<R>> {
    const next = queue.then(async () => {
      const previous = await activate(engine);
      tf.engine().startScope();
      try {
        const outputs = compute();
        const entries = await Promise.all(Object.entries(outputs).map(async ([k, t]) => [k, t ? ((await t.data()) as Float32Array) : undefined]));
        return Object.fromEntries(entries) as Read<R>;
      } finally {
        tf.engine().endScope();
        if (previous !== engine) await tf.setBackend(previous);
      }
    });
    queue = next.catch(() => undefined);
    return next;
  }

  return {
    name: `tfjs-${engine}`,

    async conv2d(x: FloatTensor, w: FloatTensor, bias: Float32Array | undefined, p: ConvParams) {
      const g = convGeometry(x, w, p);
      const { y } = await onEngine(() => {
        const out = convNhwc(nhwc(x), hwio(w), g, customGradient);
        return { y: (bias ? out.add(tf.tensor1d(bias)) : out).transpose(NHWC_TO_NCHW) };
      });
      return { shape: [g.n, g.cout, g.ho, g.wo], data: y };
    },

    async conv2dBackward(x: FloatTensor, w: FloatTensor, dy: FloatTensor, p: ConvParams, needInput: boolean): Promise<Gradients> {
      const g = convGeometry(x, w, p);
      const r = await onEngine(() => {
        const dyNhwc = nhwc(dy);
        const b = tf.zeros([g.cout]);
        const xt = nhwc(x);
        const wt = hwio(w);
        const forward = (xi: tf.Tensor, wi: tf.Tensor, bi: tf.Tensor) => convNhwc(xi as tf.Tensor4D, wi as tf.Tensor4D, g, customGradient).add(bi);
        const [dwHwio, db, dx] = needInput
          ? (([gx, gw, gb]) => [gw, gb, gx])(tf.grads(forward)([xt, wt, b], dyNhwc))
          : tf.grads((wi: tf.Tensor, bi: tf.Tensor) => forward(xt, wi, bi))([wt, b], dyNhwc);
        return { dw: dwHwio.transpose(HWIO_TO_OIHW), db, dx: dx?.transpose(NHWC_TO_NCHW) };
      });
      return { dw: { shape: w.shape, data: r.dw }, db: r.db, ...(r.dx ? { dx: { shape: x.shape, data: r.dx } } : {}) };
    },

    async gemm(x: FloatTensor, w: FloatTensor, bias: Float32Array | undefined) {
      const { y } = await onEngine(() => {
        const out = tf.matMul(tf.tensor2d(x.data, x.shape as [number, number]), tf.tensor2d(w.data, w.shape as [number, number]), false, true);
        return { y: bias ? out.add(tf.tensor1d(bias)) : out };
      });
      return { shape: [x.shape[0], w.shape[0]], data: y };
    },

    async gemmBackward(x: FloatTensor, w: FloatTensor, dy: FloatTensor, needInput: boolean): Promise<Gradients> {
      const r = await onEngine(() => {
        const xt = tf.tensor2d(x.data, x.shape as [number, number]);
        const wt = tf.tensor2d(w.data, w.shape as [number, number]);
        const dyt = tf.tensor2d(dy.data, dy.shape as [number, number]);
        const b = tf.zeros([w.shape[0]]);
        const forward = (xi: tf.Tensor, wi: tf.Tensor, bi: tf.Tensor) => tf.matMul(xi, wi, false, true).add(bi);
        const [dw, db, dx] = needInput
          ? (([gx, gw, gb]) => [gw, gb, gx])(tf.grads(forward)([xt, wt, b], dyt))
          : tf.grads((wi: tf.Tensor, bi: tf.Tensor) => forward(xt, wi, bi))([wt, b], dyt);
        return { dw, db, dx };
      });
      return { dw: { shape: w.shape, data: r.dw }, db: r.db, ...(r.dx ? { dx: { shape: x.shape, data: r.dx } } : {}) };
    },

    dispose: async () => {},
  };
}
