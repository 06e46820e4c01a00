// The dependency rules of DESIGN.md, checked on the import graph: nothing below the CLI imports it, the compiler
// core imports no target, runtime or data loader, and no two files import each other, even through others.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { importCycles, importEdges } from './import-graph.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const edges = importEdges(ROOT, ['src', 'runtime', 'targets', 'calibration']);
/** The composition roots: the CLI and the library API wire targets, the runtime and data loading into the core. */
const isRoot = (file: string) => file.startsWith('src/cli/') || file.startsWith('src/api/') || file === 'src/index.ts' || file.startsWith('src/demo/');

describe('import graph', () => {
  it('reads the graph (the check cannot pass by reading nothing)', () => {
    expect(edges.length).toBeGreaterThan(500);
    expect(edges).toContainEqual({ from: 'src/cli/main.ts', to: 'src/cli/commands/quantize.ts', typeOnly: false });
  });

  it('no file outside src/cli imports src/cli', () => {
    expect(edges.filter((e) => e.to.startsWith('src/cli/') && !e.from.startsWith('src/cli/'))).toEqual([]);
  });

  it('the core (src/ outside the composition roots) imports nothing from targets/, runtime/ or calibration/', () => {
    const core = edges.filter((e) => e.from.startsWith('src/') && !isRoot(e.from));
    expect(core.filter((e) => /^(targets|runtime|calibration)\//.test(e.to))).toEqual([]);
  });

  it('targets/ and runtime/ never import the API', () => {
    expect(edges.filter((e) => /^(targets|runtime|calibration)\//.test(e.from) && (e.to.startsWith('src/api/') || e.to === 'src/index.ts'))).toEqual([]);
  });

  it('has no import cycles, type imports included', () => {
    expect(importCycles(edges)).toEqual([]);
  });
});
