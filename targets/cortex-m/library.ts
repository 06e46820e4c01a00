// The C library of a quantized graph for one kernel set, written as a directory (the 'c' export format).

import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { QuantizedGraph } from '../../src/quant/quantized-graph.js';
import { writeGenerated } from './build.js';
import { emitC, type GeneratedC } from './emit-c.js';
import { lowerForC, type KernelSet } from './lower.js';

export function generateC(q: QuantizedGraph, kernels: KernelSet): GeneratedC {
  return emitC(lowerForC(q, kernels), kernels);
}

/** Writes the library into `dir`, replacing it whole (a sibling temp directory renamed into place). */
export function writeCLibrary(c: GeneratedC, dir: string): string[] {
  const temp = `${dir.replace(/\/+$/, '')}.tmp-${process.pid}`;
  rmSync(temp, { recursive: true, force: true });
  try {
    writeGenerated(c, temp);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(join(dir, '..'), { recursive: true });
    renameSync(temp, dir);
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
  return [...c.files.keys()].map((name) => join(dir, name));
}

/** The 'c' exporter: the optimized kernels (DSP-extension C on Cortex-M, portable C elsewhere). I/O is int8 on the
 * grids that model.h states; quantizing float input is the caller's step. */
export async function exportC(q: QuantizedGraph, output: string): Promise<string[]> {
  return writeCLibrary(generateC(q, 'optimized'), output);
}
