// LiteRT.js (@litertjs/core) in Node: its single-threaded wasm build, CPU accelerator (XNNPACK delegate by default;
// layers whose weights are not constant run on TFLite's built-in kernels). Its JS layer maps float32, int32 and
// uint8 tensors only, so flexq's models talk to it in float32 (QUANTIZE / DEQUANTIZE inside the model).

import { fail } from '../../src/errors.js';
import type { TfliteInterpreter } from './interpreter.js';
import { installWorkerGlobals, packageWasmDir, withLog } from './wasm-shim.js';

type LiteRt = typeof import('@litertjs/core');

let loading: Promise<LiteRt> | undefined;

/**
 * What LiteRT.js prints about its environment, not about a model, once per process: Node has no WebGPU device
 * (loadLiteRt probes for one) and the wasm build has no NPU (its accelerator registry, on the first compile).
 */
const ENVIRONMENT_NOTICES = [/Failed to create default WebGPU device/, /NPU accelerator could not be loaded/];

/** Loads the LiteRT.js wasm module once per process. */
function liteRt(): Promise<LiteRt> {
  loading ??= (async () => {
    installWorkerGlobals();
    const lib = await import('@litertjs/core');
    await withLog(() => lib.loadLiteRt(packageWasmDir('@litertjs/core')));
    return lib;
  })();
  return loading;
}

export async function openLiteRt(model: Uint8Array, source: string): Promise<TfliteInterpreter> {
  const lib = await liteRt();
  const { value: compiled, log } = await withLog(async () => {
    try {
      return await lib.loadAndCompile(model, { accelerator: 'wasm' });
    } catch (e) {
      return fail('MODEL_INVALID', `${source}: LiteRT.js could not load the model: ${(e as Error).message}`);
    }
  });
  const [input] = compiled.getInputDetails();
  return {
    name: 'LiteRT.js 2.5.3',
    loadLog: log.filter((line) => !ENVIRONMENT_NOTICES.some((notice) => notice.test(line))),
    async run(data) {
      const tensor = new lib.Tensor(data, input.shape);
      const outputs = await compiled.run([tensor]);
      tensor.delete();
      return outputs.map((t) => {
        const values = Float32Array.from(t.toTypedArray() as Float32Array);
        t.delete();
        return values;
      });
    },
    dispose: () => compiled.delete(),
  };
}
