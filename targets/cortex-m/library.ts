// The C library of a quantized graph for one kernel set, written as a directory (the 'c' export format).

import { writeOutputFolder, type OutputFolderOptions } from '../../src/output-folder.js';
import type { QuantizedGraph } from '../../src/quant/quantized-graph.js';
import { writeGenerated } from './build.js';
import { emitC, type GeneratedC } from './emit-c.js';
import { lowerForC, type KernelSet } from './lower.js';

export function generateC(q: QuantizedGraph, kernels: KernelSet): GeneratedC {
  return emitC(lowerForC(q, kernels), kernels);
}

/** Writes the library as the output folder `dir` (built beside it and moved in; never over files flexq did not write). */
export function writeCLibrary(c: GeneratedC, dir: string, o: OutputFolderOptions = {}): Promise<string[]> {
  return writeOutputFolder(dir, (staging) => writeGenerated(c, staging), o);
}

/** The 'c' exporter: the optimized kernels (DSP-extension C on Cortex-M, portable C elsewhere). I/O is int8 on the
 * grids that model.h states; quantizing float input is the caller's step. */
export function exportC(q: QuantizedGraph, output: string, o: OutputFolderOptions = {}): Promise<string[]> {
  return writeCLibrary(generateC(q, 'optimized'), output, o);
}
