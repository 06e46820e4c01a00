// flexq as another package sees it: `npm pack`, unpacked into a consumer's node_modules, imported by name from
// JavaScript and from TypeScript (types checked), and the README's library example run as it is written.
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as api from '../../src/index.js';
import { SHARED } from '../helpers/shared.js';
import { lacksTools } from '../helpers/tools.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'flexq-package-'));
const consumer = join(work, 'consumer');
afterAll(() => rmSync(work, { recursive: true, force: true }));

function node(cwd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd, maxBuffer: 64 << 20 }, (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
  });
}

beforeAll(() => {
  const [packed] = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: ROOT, encoding: 'utf8' })) as { filename: string }[];
  const installed = join(consumer, 'node_modules', 'flexq');
  mkdirSync(installed, { recursive: true });
  execFileSync('tar', ['-xzf', join(work, packed.filename), '-C', installed, '--strip-components=1']);
  // The dependencies as npm would install them: this checkout's, so the test needs no network.
  symlinkSync(join(ROOT, 'node_modules'), join(installed, 'node_modules'));
  symlinkSync(join(ROOT, 'node_modules', '@types'), join(consumer, 'node_modules', '@types'));
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', type: 'module', private: true }));
});

describe('the packed package', () => {
  it('imports by name from JavaScript, with every export of src/index.ts', async () => {
    const r = await node(consumer, ['--input-type=module', '-e', "const m = await import('flexq'); console.log(JSON.stringify(Object.keys(m).sort())); console.log(m.exportFormats().join(','))"]);
    expect(r.code, r.stderr).toBe(0);
    const [names, formats] = r.stdout.trim().split('\n');
    expect(JSON.parse(names)).toEqual(Object.keys(api).sort());
    expect(formats.split(',')).toEqual(api.exportFormats());
  });

  it('type-checks a TypeScript consumer, and rejects options outside the unions', () => {
    writeFileSync(join(consumer, 'app.ts'), [
      "import { quantize, type QuantizeOptions, type ValidateReport, FlexqError } from 'flexq';",
      "const good: QuantizeOptions = { calib: 'images/', method: 'flexround', wbits: 4, abits: 8, granularity: 'block' };",
      "// @ts-expect-error 5 is not a weight width flexq offers",
      "const bad: QuantizeOptions = { calib: 'images/', wbits: 5 };",
      "export async function main(): Promise<number | undefined> {",
      "  try { const q = await quantize('m.onnx', good); return q.weights.size; } catch (e) { if (e instanceof FlexqError) return e.code.length; throw e; }",
      "}",
      "export const first = (r: ValidateReport): string => r.executors[0].executor;",
      "void bad;",
    ].join('\n'));
    writeFileSync(join(consumer, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true, types: ['node'] },
      files: ['app.ts'],
    }));
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const out = (() => {
      try {
        return execFileSync(process.execPath, [tsc, '-p', consumer], { encoding: 'utf8' });
      } catch (e) {
        return `exit ${(e as { status: number }).status}: ${(e as { stdout: string }).stdout}`;
      }
    })();
    expect(out).toBe('');
  });
});

describe.skipIf(lacksTools('arm-gcc', 'qemu-arm'))("the README's library example", () => {
  it('runs as written: quantize, export, validate bit-exact, compile for the Cortex-M4', async () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const example = /### As a library[\s\S]*?```js\n([\s\S]*?)```/.exec(readme)![1];
    expect(example).toContain("from 'flexq'");
    // The example's paths are the README's: ../shared beside the working folder.
    const cwd = join(work, 'readme', 'project');
    mkdirSync(cwd, { recursive: true });
    symlinkSync(SHARED, join(work, 'readme', 'shared'));
    writeFileSync(join(consumer, 'example.mjs'), example);
    const r = await node(cwd, [join(consumer, 'example.mjs')]);
    expect(r.code, r.stderr).toBe(0);
    // console.log's rendering: float top-1, then [executor, top-1] pairs, then the mismatch matrix.
    const flat = r.stdout.replace(/\s+/g, ' ');
    expect(flat).toMatch(/^0\.9\d* \[ \[ 'runtime \(onnx\)', 0\.9\d* \], \[ 'ort-node[^']*', 0\.9\d* \] \]/);
    expect(flat).toMatch(/'runtime \(onnx\)': \{ 'runtime \(onnx\)': 0, 'ort-node[^']*': 0 \}/);
    expect(flat).toMatch(/'ort-node[^']*': \{ 'runtime \(onnx\)': 0, 'ort-node[^']*': 0 \}/);
    expect(r.stdout).toMatch(/bit-exact\s+yes: 8 inputs, 0 output bytes differ/);
  });
});
