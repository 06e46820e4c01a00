// `--backend`: the one place that maps a backend name to an implementation.
import { fail } from '../errors.js';
import type { TensorBackend } from './backend.js';
import { createOrtCpuBackend } from './ort-cpu.js';
import { createTfjsBackend } from './tfjs-reference.js';

export const BACKEND_KINDS = ['auto', 'ort-cpu', 'wasm', 'cpu', 'tensorflow', 'webgpu'] as const;
export type BackendKind = (typeof BACKEND_KINDS)[number];

/** tfjs-node packages a user may install (they download libtensorflow at install, so flexq never depends on them). */
const TFJS_NODE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'];

/** Imports the first installed tfjs-node package, which registers the 'tensorflow' tfjs backend. */
async function loadTfjsNode(): Promise<void> {
  for (const name of TFJS_NODE_PACKAGES) {
    try {
      await import(name);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw e;
    }
  }
  fail(
    'BACKEND_UNAVAILABLE',
    `--backend tensorflow: neither ${TFJS_NODE_PACKAGES.join(' nor ')} is installed; it is an optional peer that downloads libtensorflow: ` +
      `run 'npm install @tensorflow/tfjs-node@4.22' (or tfjs-node-gpu for CUDA) next to flexq, or use --backend auto`,
  );
}

/** Opens the backend `kind` names; 'auto' is ort-cpu, the fastest one available here (the caller prints `name`). */
export async function openBackend(kind: BackendKind): Promise<TensorBackend> {
  switch (kind) {
    case 'auto':
    case 'ort-cpu':
      return createOrtCpuBackend();
    case 'wasm':
    case 'cpu':
      return createTfjsBackend(kind);
    case 'tensorflow':
      await loadTfjsNode();
      return createTfjsBackend('tensorflow');
    case 'webgpu':
      return fail('BACKEND_UNAVAILABLE', `--backend webgpu is not available in this version; use --backend auto (onnxruntime-node on the CPU)`);
    default:
      return fail('BAD_ARGUMENT', `--backend ${String(kind)}: expected one of ${BACKEND_KINDS.join(', ')}`);
  }
}
