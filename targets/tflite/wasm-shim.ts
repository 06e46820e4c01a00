// LiteRT.js and tfjs-tflite are written for browsers: they load their Emscripten module with importScripts (as in
// a web worker) and read the factory it defines from `self`. In Node this shim gives them those globals:
//   self = globalThis, location (tfjs-tflite builds the script URL from it), and importScripts(url), which
//   evaluates the Emscripten script as CommonJS (its Node branch reads the .wasm with fs) and sets the factory that
//   each library expects: ModuleFactory (LiteRT.js), tflite_web_api_ModuleFactory (tfjs-tflite).
// Both run single-threaded: LiteRT.js picks its single-threaded build itself (loadLiteRt without `threads`);
// tfjs-tflite would pick its threaded build in Node (SharedArrayBuffer exists), so the shim loads the
// single-threaded script of the same SIMD level. Whatever the Emscripten runtime prints (TFLite's log lines) goes
// to a log that callers read around a model load, so a warning is an error rather than noise on stderr.

import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname } from 'node:path';
import { runInThisContext } from 'node:vm';

const require = createRequire(import.meta.url);

type EmscriptenFactory = (options: Record<string, unknown>) => Promise<unknown>;

interface WorkerGlobals {
  self?: unknown;
  location?: { origin: string; href: string };
  importScripts?: (url: string) => void;
  Module?: Record<string, unknown>;
  ModuleFactory?: EmscriptenFactory;
  tflite_web_api_ModuleFactory?: EmscriptenFactory;
}

const globals = globalThis as unknown as WorkerGlobals;

/** Where the libraries look for the factory: `self`, which another package (onnxruntime-web) may have defined already. */
const workerScope = (): WorkerGlobals => (globals.self ?? globals) as WorkerGlobals;

/** Lines the Emscripten modules printed while a withLog call was running, oldest first (other lines are dropped). */
const printed: string[] = [];
let capturing = 0;
const print = (...parts: unknown[]): void => {
  if (capturing > 0) printed.push(parts.join(' '));
};

/**
 * Runs `f` and returns what it returned with the log lines the interpreters printed meanwhile, their JS layers'
 * console.warn included (LiteRT.js warns there that Node has no WebGPU device).
 */
export async function withLog<T>(f: () => Promise<T>): Promise<{ value: T; log: string[] }> {
  const start = printed.length;
  capturing++;
  const warn = console.warn;
  console.warn = (...parts: unknown[]) => print('WARNING:', ...parts.map((p) => (p instanceof Error ? p.message : p)));
  try {
    const value = await f();
    return { value, log: printed.slice(start) };
  } finally {
    console.warn = warn;
    capturing--;
    printed.length = start;
  }
}

/**
 * Evaluates a script as CommonJS whatever its package's "type" says (both packages are "type": "module", so
 * require() would load the UMD script as an ES module and lose its module.exports).
 */
function evaluateCommonJs(path: string): unknown {
  const module = { exports: {} as unknown };
  const wrapper = runInThisContext(`(function (exports, require, module, __filename, __dirname) {${readFileSync(path, 'utf8')}\n})`, { filename: path });
  (wrapper as (...args: unknown[]) => void)(module.exports, require, module, path, dirname(path));
  return module.exports;
}

function loadScript(url: string): void {
  const path = url.replace('_threaded.js', '.js');
  if (!existsSync(path)) throw new Error(`importScripts: no script at ${path}`);
  const factory = evaluateCommonJs(path) as EmscriptenFactory;
  if (basename(path).startsWith('tflite_web_api')) {
    const wasmBinary = readFileSync(path.replace(/\.js$/, '.wasm'));
    workerScope().tflite_web_api_ModuleFactory = (options) => factory({ ...options, wasmBinary, print, printErr: print });
  } else {
    workerScope().ModuleFactory = factory;
    workerScope().Module = { print, printErr: print };
  }
}

let installed = false;

export function installWorkerGlobals(): void {
  if (installed) return;
  installed = true;
  globals.self ??= globalThis;
  globals.location ??= { origin: '', href: '' };
  globals.importScripts = loadScript;
}

/** The directory of a package's wasm/ folder, with a trailing slash (how both libraries want it). */
export function packageWasmDir(pkg: string): string {
  const entry = require.resolve(`${pkg}/package.json`);
  return entry.slice(0, -'package.json'.length) + 'wasm/';
}
