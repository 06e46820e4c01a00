import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

export { tf };

let ready: Promise<string> | undefined;

/**
 * Selects TensorFlow.js's wasm backend (XNNPACK, SIMD; single-threaded in Node), the engine the float
 * reference runs on; falls back to the pure-JS cpu backend only when wasm cannot start.
 */
export function tfjsReady(): Promise<string> {
  ready ??= (async () => {
    if (!(await tf.setBackend('wasm').catch(() => false))) await tf.setBackend('cpu');
    await tf.ready();
    return tf.getBackend();
  })();
  return ready;
}
