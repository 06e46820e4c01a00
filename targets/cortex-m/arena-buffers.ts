// The arena buffers of a lowered model, for planArena: one per stored tensor and one per kernel scratch, each with the
// steps it lives across. Reshape-like aliases share their source's buffer. With `inPlace`, a step that allows it
// (CStep.inPlaceInputs: element-wise ops, depthwise and pointwise convs whose kernels read each input element before
// writing over it) writes its output into the buffer of an input that no later step reads, so the two tensors never
// need bytes at the same time.

import type { LoweredModel } from './lower.js';
import type { ArenaBuffer } from './plan-arena.js';

export interface ArenaBuffers {
  readonly buffers: readonly ArenaBuffer[];
  /** Value name → the id of the buffer that holds it (the model's input lives in the caller's buffer: absent). */
  readonly storage: ReadonlyMap<string, string>;
}

export const scratchId = (step: number): string => `#scratch${step}`;

export function arenaBuffers(model: LoweredModel, o: { readonly inPlace: boolean }): ArenaBuffers {
  const { steps } = model;
  const root = (name: string): string => model.aliases.get(name) ?? name;
  const lastRead = new Map<string, number>();
  steps.forEach((s, i) => s.inputs.forEach((x) => lastRead.set(root(x), i)));
  for (const o of model.outputs) lastRead.set(root(o.name), steps.length); // read by the final copies to the caller's output
  const storage = new Map<string, string>();
  const buffers = new Map<string, { id: string; bytes: number; first: number; last: number }>();
  steps.forEach((s, i) => {
    const last = Math.max(i, lastRead.get(s.output) ?? i);
    const shared = o.inPlace
      ? (s.inPlaceInputs ?? []).map((k) => root(s.inputs[k])).find((x) => x !== model.input.name && lastRead.get(x) === i && storage.has(x))
      : undefined;
    if (shared !== undefined) {
      const buffer = buffers.get(storage.get(shared)!)!;
      buffer.bytes = Math.max(buffer.bytes, s.outputBytes);
      buffer.last = Math.max(buffer.last, last);
      storage.set(s.output, buffer.id);
    } else {
      buffers.set(s.output, { id: s.output, bytes: s.outputBytes, first: i, last });
      storage.set(s.output, s.output);
    }
  });
  for (const [name, source] of model.aliases) if (storage.has(source)) storage.set(name, storage.get(source)!);
  const all: ArenaBuffer[] = [...buffers.values()];
  steps.forEach((s, i) => {
    if (s.scratchBytes > 0) all.push({ id: scratchId(i), bytes: s.scratchBytes, first: i, last: i });
  });
  return { buffers: all, storage };
}
