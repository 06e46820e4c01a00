// The C library of a quantized graph for one kernel set, written as a directory (the 'c' export format): the sources,
// README.md, a Makefile, a CMakeLists.txt and, on request, an example project for a board.

import { writeOutputFolder, type OutputFolderOptions } from '../../src/output-folder.js';
import type { QuantizedGraph } from '../../src/ir/quantized-graph.js';
import { constantBudget, CORTEX_M_CORES } from './boards.js';
import { writeGenerated } from './build.js';
import { emitC, type GeneratedC } from './emit-c.js';
import { EXAMPLE_DIR, exampleFiles } from './example.js';
import { cmakeLists, makefile, readme } from './library-docs.js';
import { provenanceOf, resolveLibraryOptions, type CLibraryOptions } from './library-options.js';
import { lowerForC, type KernelSet } from './lower.js';

export type { CLibraryOptions } from './library-options.js';

/** The library's files in memory; `o` names its symbols (prefix), its board, and whether an example comes with it. */
export function generateC(q: QuantizedGraph, kernels: KernelSet, o: CLibraryOptions = {}): GeneratedC {
  const r = resolveLibraryOptions(o);
  const provenance = provenanceOf(q);
  const c = emitC(lowerForC(q, kernels, r.rounding, { constantBudget: constantBudget(CORTEX_M_CORES[r.board]) }), kernels, { prefix: r.prefix, provenance });
  const facts = { c, provenance, board: r.board, exampleDir: r.example ? EXAMPLE_DIR : undefined };
  const files = new Map(c.files);
  files.set('README.md', readme(facts));
  files.set('Makefile', makefile(facts));
  files.set('CMakeLists.txt', cmakeLists(facts));
  if (r.example) for (const [name, text] of exampleFiles({ c, provenance, board: r.board, input: r.exampleInput })) files.set(name, text);
  return { ...c, files };
}

/** Writes the library as the output folder `dir` (built beside it and moved in; never over files flexq did not write). */
export function writeCLibrary(c: GeneratedC, dir: string, o: OutputFolderOptions = {}): Promise<string[]> {
  return writeOutputFolder(dir, (staging) => writeGenerated(c, staging), o);
}

/** The 'c' exporter: the optimized kernels (DSP-extension C on Cortex-M, portable C elsewhere). I/O is int8 on the
 * grids that model.h states; NAME_quantize_input quantizes float input. */
export function exportC(q: QuantizedGraph, output: string, o: OutputFolderOptions & CLibraryOptions = {}): Promise<string[]> {
  return writeCLibrary(generateC(q, 'optimized', o), output, o);
}
