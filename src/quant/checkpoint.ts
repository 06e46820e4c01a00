// The resume file of a reconstruction run: written atomically after every unit, read by --resume, removed when the
// run ends. It holds every weight's integers and every activation grid as they stand, plus a fingerprint of what
// the run was asked to do, so a resume with other options or another model is refused instead of mixing the two.

import { existsSync, readFileSync, rmSync } from 'node:fs';
import { fail } from '../errors.js';
import { writeFileAtomic } from '../fs-atomic.js';
import type { ActivationQuant, QuantizedWeight } from '../ir/quantized-graph.js';
import type { ReconstructionCheckpoint } from './reconstruct.js';

const FORMAT = 'flexq-reconstruction-checkpoint/1';

interface StoredWeight extends Omit<QuantizedWeight, 'values' | 'channelScales'> {
  readonly values: string;
  readonly channelScales?: number[];
}

interface Stored {
  readonly format: string;
  readonly fingerprint: string;
  readonly unitsDone: number;
  readonly weights: Record<string, StoredWeight>;
  readonly activations: Record<string, ActivationQuant>;
}

export function checkpointPath(output: string): string {
  return `${output}.resume`;
}

export function writeCheckpoint(path: string, fingerprint: string, c: ReconstructionCheckpoint): void {
  const weights = Object.fromEntries(
    [...c.weights].map(([k, w]) => [k, { ...w, values: Buffer.from(w.values.buffer, w.values.byteOffset, w.values.byteLength).toString('base64'), channelScales: w.channelScales && [...w.channelScales] }]),
  );
  const stored: Stored = { format: FORMAT, fingerprint, unitsDone: c.unitsDone, weights, activations: Object.fromEntries(c.activations) };
  writeFileAtomic(path, JSON.stringify(stored));
}

/** The checkpoint at `path` if there is one, refused when it was made by a run with another fingerprint. */
export function readCheckpoint(path: string, fingerprint: string): ReconstructionCheckpoint | undefined {
  if (!existsSync(path)) return undefined;
  let stored: Stored;
  try {
    stored = JSON.parse(readFileSync(path, 'utf8')) as Stored;
  } catch (e) {
    return fail('DATA_READ', `${path}: not a readable flexq checkpoint (${(e as Error).message}); delete it to start over`);
  }
  if (stored.format !== FORMAT) fail('DATA_READ', `${path}: expected a ${FORMAT} file, found '${stored.format}'; delete it to start over`);
  if (stored.fingerprint !== fingerprint)
    fail('BAD_ARGUMENT', `${path} was written by a run with another model, data or options; run with the same ones to resume, or delete it to start over`);
  const weights = new Map(
    Object.entries(stored.weights).map(([k, { channelScales, ...w }]) => [k, { ...w, values: new Int8Array(Buffer.from(w.values, 'base64')), ...(channelScales ? { channelScales: Float32Array.from(channelScales) } : {}) }]),
  );
  return { unitsDone: stored.unitsDone, weights, activations: new Map(Object.entries(stored.activations)) };
}

export function removeCheckpoint(path: string): void {
  rmSync(path, { force: true });
}
