/**
 * `npm run bench -- NAME [args…]`: runs test/bench/NAME.bench.ts, prints its table and writes
 * test/bench/results/NAME.json. Benchmarks hold the speed and memory targets; unit tests never time.
 */
import { mkdirSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../../src/fs-atomic.js';
import { formatTable, type BenchResult } from './table.js';

const HERE = dirname(fileURLToPath(import.meta.url));

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  const names = readdirSync(HERE).filter((f) => f.endsWith('.bench.ts')).map((f) => f.slice(0, -'.bench.ts'.length));
  if (!name || !names.includes(name)) {
    process.stderr.write(`usage: npm run bench -- NAME [args]; NAME is one of: ${names.join(', ') || '(none)'}\n`);
    return 2;
  }
  const mod = (await import(join(HERE, `${name}.bench.ts`))) as { default: (args: string[]) => Promise<BenchResult> };
  const result = await mod.default(args);
  process.stdout.write(formatTable(result) + '\n');
  const out = join(HERE, 'results', `${name}.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileAtomic(out, JSON.stringify({ name, date: new Date().toISOString(), ...result }, null, 2) + '\n');
  process.stderr.write(`wrote ${out}\n`);
  return 0;
}

main(process.argv.slice(2)).then((code) => process.exit(code), (e: Error) => {
  process.stderr.write(`bench: ${e.stack ?? e.message}\n`);
  process.exit(1);
});
