// TensorFlow.js's WebGPU engine in Node: Dawn from the optional 'webgpu' package stands in for the browser's
// navigator.gpu, and tfjs-backend-webgpu registers the 'webgpu' tfjs backend on it.
import { fail } from '../errors.js';

let started: Promise<void> | undefined;

/** Gives the process a navigator.gpu (Dawn) and registers tfjs's webgpu backend; once per process. */
export function startTfjsWebGpu(): Promise<void> {
  started ??= (async () => {
    const dawn = await import('webgpu').catch(() =>
      fail('BACKEND_UNAVAILABLE', "--backend tfjs-webgpu: the optional package 'webgpu' (Dawn for Node) is not installed: run 'npm install webgpu@0.6.2' next to flexq"),
    );
    Object.assign(globalThis, dawn.globals);
    const host = globalThis as { navigator?: { gpu?: unknown } };
    if (!host.navigator?.gpu) Object.defineProperty(globalThis, 'navigator', { value: { ...host.navigator, gpu: dawn.create([]) }, configurable: true, writable: true });
    await import('@tensorflow/tfjs-backend-webgpu');
  })();
  return started;
}
