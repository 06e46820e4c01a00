// tfjs-tflite (@tensorflow/tfjs-tflite) in Node: TFLite's web API build (SIMD, single-threaded), XNNPACK delegate by
// default (layers whose weights are not constant run on TFLite's built-in kernels). Tensors are read and written
// in place in the wasm heap through the model runner.

import { createRequire } from 'node:module';
import { fail } from '../../src/errors.js';
import type { TfliteInterpreter } from './interpreter.js';
import { installWorkerGlobals, packageWasmDir, withLog } from './wasm-shim.js';

const require = createRequire(import.meta.url);

export interface RunnerTensor {
  readonly name: string;
  /** float32, int8, … */
  readonly dataType: string;
  /** Comma-separated dims, e.g. "1,32,32,3". */
  readonly shape: string;
  /** The tensor's memory in the wasm heap. */
  data(): Float32Array | Int8Array;
}

interface ModelRunner {
  getInputs(): RunnerTensor[];
  getOutputs(): RunnerTensor[];
  infer(): boolean;
  cleanUp(): void;
}

interface TfliteModule {
  setWasmPath(path: string): void;
  loadTFLiteModel(model: ArrayBuffer, options: { numThreads: number }): Promise<{ modelRunner: ModelRunner }>;
}

let module: TfliteModule | undefined;

function tfjsTflite(): TfliteModule {
  if (!module) {
    installWorkerGlobals();
    module = require('@tensorflow/tfjs-tflite') as TfliteModule;
    module.setWasmPath(packageWasmDir('@tensorflow/tfjs-tflite'));
  }
  return module;
}

/** A model in tfjs-tflite with its tensors as they are (int8 or float32), for models flexq did not write. */
export interface RawTfjsTflite {
  readonly inputs: readonly RunnerTensor[];
  readonly outputs: readonly RunnerTensor[];
  readonly loadLog: readonly string[];
  /** Writes each input's values into the interpreter, runs it and returns copies of the outputs. */
  run(inputs: readonly ArrayLike<number>[]): (Float32Array | Int8Array)[];
  dispose(): void;
}

export async function openTfjsTfliteRaw(model: Uint8Array, source: string): Promise<RawTfjsTflite> {
  const lib = tfjsTflite();
  const { value: runner, log } = await withLog(async () => {
    try {
      return (await lib.loadTFLiteModel(model.slice().buffer, { numThreads: 1 })).modelRunner;
    } catch (e) {
      return fail('MODEL_INVALID', `${source}: tfjs-tflite could not load the model: ${(e as Error).message}`);
    }
  });
  const inputs = runner.getInputs();
  const outputs = runner.getOutputs();
  return {
    inputs,
    outputs,
    loadLog: log,
    run(values) {
      values.forEach((v, i) => inputs[i].data().set(v));
      if (!runner.infer()) fail('MODEL_INVALID', `${source}: tfjs-tflite failed to run the model`);
      return outputs.map((t) => t.data().slice());
    },
    dispose: () => runner.cleanUp(),
  };
}

export async function openTfjsTflite(model: Uint8Array, source: string): Promise<TfliteInterpreter> {
  const raw = await openTfjsTfliteRaw(model, source);
  for (const t of [...raw.inputs, ...raw.outputs])
    if (t.dataType !== 'float32') fail('MODEL_INVALID', `${source}: tensor '${t.name}' is ${t.dataType}; the tfjs-tflite executor feeds and reads float32 (export with --io float)`);
  return {
    name: 'tfjs-tflite 0.0.1-alpha.10',
    loadLog: raw.loadLog,
    run: async (data) => raw.run([data]) as Float32Array[],
    dispose: () => raw.dispose(),
  };
}
