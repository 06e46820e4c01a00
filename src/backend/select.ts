// `--backend`: the one place that maps a backend name to an implementation.
import { createRequire } from 'node:module';
import { fail } from '../errors.js';
import type { TensorBackend } from './backend.js';
import { createOrtBackend } from './ort.js';
import { createTfjsBackend } from './tfjs-reference.js';
import { startTfjsWebGpu } from './tfjs-webgpu.js';
import { inspectVulkanHost, noAdapterMessage, probeWebGpuAdapter } from './webgpu-adapter.js';

export const BACKEND_KINDS = ['auto', 'ort-cpu', 'webgpu', 'tfjs-webgpu', 'wasm', 'cpu', 'tensorflow'] as const;
export type BackendKind = (typeof BACKEND_KINDS)[number];

/** tfjs-node packages a user may install (they download libtensorflow at install, so flexq never depends on them). */
const TFJS_NODE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'];

/** Whether a package can be found from flexq's own location. */
function installed(name: string): boolean {
  try {
    createRequire(import.meta.url).resolve(name);
    return true;
  } catch {
    return false;
  }
}

/** Imports the first installed tfjs-node package, which registers the 'tensorflow' tfjs backend. */
async function loadTfjsNode(): Promise<void> {
  const name = TFJS_NODE_PACKAGES.find(installed);
  if (name) {
    await import(name);
    return;
  }
  fail(
    'BACKEND_UNAVAILABLE',
    `--backend tensorflow: neither ${TFJS_NODE_PACKAGES.join(' nor ')} is installed; it is an optional peer that downloads libtensorflow: ` +
      `run 'npm install @tensorflow/tfjs-node@4.22' (or tfjs-node-gpu for CUDA) next to flexq, or use --backend auto`,
  );
}

/** The adapter a WebGPU backend runs on, for the report; fails with what the host lacks when there is none. */
async function adapterName(kind: BackendKind): Promise<string> {
  const probe = await probeWebGpuAdapter();
  const adapter = probe.adapter;
  if (!adapter) return fail('BACKEND_UNAVAILABLE', noAdapterMessage(kind, probe, process.platform === 'linux' ? inspectVulkanHost() : undefined));
  return adapter.software ? `${adapter.description} (software: slower than --backend ort-cpu)` : adapter.description;
}

/** Checks that ORT's own Dawn runs a graph and gets it right: a 2×2 product. */
async function checkOrtWebGpu(backend: TensorBackend): Promise<void> {
  const y = await backend.gemm({ shape: [1, 2], data: new Float32Array([1, 2]) }, { shape: [2, 2], data: new Float32Array([3, 4, 5, 6]) }, undefined);
  if (y.data[0] !== 11 || y.data[1] !== 17) throw new Error(`a 1×2 · 2×2 product gave [${y.data}], expected [11, 17]`);
}

/**
 * onnxruntime's WebGPU execution provider on Dawn's adapter. `--backend webgpu` takes any adapter, a software one
 * too (the tests run on Mesa's llvmpipe); 'auto' takes only a hardware GPU and otherwise answers undefined.
 */
async function openOrtWebGpu(kind: 'webgpu' | 'auto'): Promise<TensorBackend | undefined> {
  const { adapter } = await probeWebGpuAdapter();
  if (kind === 'auto' && (!adapter || adapter.software)) return undefined;
  const device = await adapterName(kind);
  const backend = await createOrtBackend('webgpu', device);
  try {
    await checkOrtWebGpu(backend);
    return backend;
  } catch (e) {
    await backend.dispose().catch(() => undefined);
    const why = `onnxruntime's WebGPU execution provider failed on ${device}: ${(e as Error).message.split('\n')[0]}`;
    if (kind === 'auto') {
      process.stderr.write(`warning: ${why}; reconstructing on the CPU\n`);
      return undefined;
    }
    return fail('BACKEND_UNAVAILABLE', `--backend webgpu: ${why}; use --backend ort-cpu`);
  }
}

/**
 * Opens the backend `kind` names; 'auto' is ort-webgpu on a hardware GPU, else ort-cpu (the caller prints `name`).
 * 'webgpu' is onnxruntime's WebGPU EP; 'tfjs-webgpu' TensorFlow.js's WebGPU engine, the other candidate for GPU hosts.
 */
export async function openBackend(kind: BackendKind): Promise<TensorBackend> {
  switch (kind) {
    case 'auto':
      return (await openOrtWebGpu('auto')) ?? createOrtBackend('cpu');
    case 'ort-cpu':
      return createOrtBackend('cpu');
    case 'wasm':
    case 'cpu':
      return createTfjsBackend(kind);
    case 'tensorflow':
      await loadTfjsNode();
      return createTfjsBackend('tensorflow');
    case 'webgpu':
      return (await openOrtWebGpu('webgpu'))!;
    case 'tfjs-webgpu': {
      const device = await adapterName(kind);
      await startTfjsWebGpu();
      return { ...(await createTfjsBackend('webgpu')), device };
    }
    default:
      return fail('BAD_ARGUMENT', `--backend ${String(kind)}: expected one of ${BACKEND_KINDS.join(', ')}`);
  }
}
