// Output folders never lose a user's files: built beside the target and moved in; a folder flexq did not write is
// refused unless --force, and then only flexq's files are replaced; the working folder and its parents are refused.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlexqError } from '../src/errors.js';
import { OUTPUT_MANIFEST, writeOutputFolder } from '../src/output-folder.js';
import { flexq, flexqIn } from './helpers/cli.js';
import { data, model } from './helpers/shared.js';

const root = mkdtempSync(join(tmpdir(), 'flexq-output-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const writeFiles = (files: Record<string, string>) => (staging: string) => {
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(staging, name, '..'), { recursive: true });
    writeFileSync(join(staging, name), text);
  }
};

async function refusal(p: Promise<unknown>): Promise<FlexqError> {
  const e = await p.then(() => undefined, (x: unknown) => x);
  expect(e).toBeInstanceOf(FlexqError);
  return e as FlexqError;
}

describe('writeOutputFolder', () => {
  it('creates a new folder whole, with a manifest of its files, and leaves no staging folder', async () => {
    const dir = join(root, 'new', 'lib');
    const written = await writeOutputFolder(dir, writeFiles({ 'a.c': 'a', 'sub/b.h': 'b' }));
    expect(written).toEqual([join(dir, 'a.c'), join(dir, 'sub/b.h')]);
    expect(JSON.parse(readFileSync(join(dir, OUTPUT_MANIFEST), 'utf8')).files).toEqual(['a.c', 'sub/b.h']);
    expect(readdirSync(join(root, 'new'))).toEqual(['lib']);
  });

  it('refuses a non-empty folder it did not write, and keeps every file in it', async () => {
    const dir = join(root, 'foreign');
    mkdirSync(dir);
    writeFileSync(join(dir, 'thesis.tex'), 'years of work');
    const e = await refusal(writeOutputFolder(dir, writeFiles({ 'model.c': 'x' })));
    expect(e.code).toBe('OUTPUT_REFUSED');
    expect(e.message).toMatch(/thesis\.tex.*--force/);
    expect(readdirSync(dir)).toEqual(['thesis.tex']);
    expect(readdirSync(root).filter((f) => f.includes('flexq-tmp'))).toEqual([]);
  });

  it('with force writes its files into a foreign folder and keeps the others; a rewrite removes only its own stale files', async () => {
    const dir = join(root, 'forced');
    mkdirSync(dir);
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    await writeOutputFolder(dir, writeFiles({ 'model.c': 'v1', 'old.c': 'v1', 'sub/k.c': 'v1' }), { force: true });
    writeFileSync(join(dir, 'sub', 'mine.c'), 'mine');
    await writeOutputFolder(dir, writeFiles({ 'model.c': 'v2' }));
    expect(readFileSync(join(dir, 'model.c'), 'utf8')).toBe('v2');
    expect(existsSync(join(dir, 'old.c'))).toBe(false);
    expect(existsSync(join(dir, 'sub', 'k.c'))).toBe(false);
    expect(readFileSync(join(dir, 'notes.txt'), 'utf8')).toBe('mine');
    expect(readFileSync(join(dir, 'sub', 'mine.c'), 'utf8')).toBe('mine');
  });

  it('leaves the old folder as it was when the build fails', async () => {
    const dir = join(root, 'kept');
    await writeOutputFolder(dir, writeFiles({ 'model.c': 'good' }));
    await expect(writeOutputFolder(dir, () => { throw new Error('lowering failed'); })).rejects.toThrow('lowering failed');
    expect(readFileSync(join(dir, 'model.c'), 'utf8')).toBe('good');
    expect(readdirSync(root).filter((f) => f.includes('flexq-tmp'))).toEqual([]);
  });

  it('never writes over the working folder, its parents or a file, even with force', async () => {
    for (const dir of ['.', '..', process.cwd(), '/']) expect((await refusal(writeOutputFolder(dir, writeFiles({ a: 'a' }), { force: true }))).code).toBe('OUTPUT_REFUSED');
    const file = join(root, 'a-file');
    writeFileSync(file, 'data');
    expect((await refusal(writeOutputFolder(file, writeFiles({ a: 'a' }), { force: true }))).message).toContain('expected a folder, found a file');
    expect(readFileSync(file, 'utf8')).toBe('data');
  });
});

describe('flexq export --format c and compile keep the user\'s files', () => {
  let fq: string;
  beforeAll(async () => {
    fq = join(root, 'mnist.fq');
    const r = await flexq('quantize', model('mnist-8/model.onnx'), '--calib', data('mnist/test-images.npy'), '--preprocess', 'unit', '--limit', '64', '-o', fq);
    expect(r.code, r.stderr).toBe(0);
  });

  it('refuses an existing folder with the user\'s files (exit 1, files intact), and writes into it with --force', async () => {
    const dir = join(root, 'project');
    mkdirSync(join(dir, 'src'), { recursive: true });
    writeFileSync(join(dir, 'src', 'main.c'), 'int main(void) { return 0; }');
    const refused = await flexq('export', fq, '--format', 'c', '-o', dir);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('[OUTPUT_REFUSED]');
    expect(refused.stderr).not.toContain('internal error');
    expect(readdirSync(dir)).toEqual(['src']);
    const forced = await flexq('export', fq, '--format', 'c', '-o', dir, '--force');
    expect(forced.code, forced.stderr).toBe(0);
    expect(existsSync(join(dir, 'model.c'))).toBe(true);
    expect(readFileSync(join(dir, 'src', 'main.c'), 'utf8')).toBe('int main(void) { return 0; }');
    const again = await flexq('export', fq, '--format', 'c', '-o', dir);
    expect(again.code, again.stderr).toBe(0);
    expect(existsSync(join(dir, 'src', 'main.c'))).toBe(true);
  });

  it('refuses -o . and -o .. without deleting anything', async () => {
    const cwd = join(root, 'work', 'here');
    mkdirSync(cwd, { recursive: true });
    writeFileSync(join(cwd, 'keep.txt'), 'keep');
    writeFileSync(join(root, 'work', 'keep-parent.txt'), 'keep');
    for (const o of ['.', '..']) {
      const r = await flexqIn({ cwd }, 'export', fq, '--format', 'c', '-o', o, '--force');
      expect(r.code, o).toBe(1);
      expect(r.stderr).toContain('never writes its output folder over the working folder');
    }
    expect(readdirSync(cwd)).toEqual(['keep.txt']);
    expect(readdirSync(join(root, 'work')).sort()).toEqual(['here', 'keep-parent.txt']);
  });

  it('compile refuses a foreign folder before quantizing and writes nothing', async () => {
    const dir = join(root, 'firmware');
    mkdirSync(join(dir, 'c'), { recursive: true });
    writeFileSync(join(dir, 'c', 'board.c'), 'board');
    const r = await flexq('compile', model('mnist-8/model.onnx'), '--calib', data('mnist/test-images.npy'), '--preprocess', 'unit', '--limit', '16', '--target', 'cortex-m4', '-o', dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('[OUTPUT_REFUSED]');
    expect(r.stderr).not.toContain('quantize');
    expect(readdirSync(dir)).toEqual(['c']);
    expect(readdirSync(join(dir, 'c'))).toEqual(['board.c']);
  });

  it('a path through a file is a file-system error naming the path, not an internal error', async () => {
    const file = join(root, 'plain-file');
    writeFileSync(file, 'x');
    const r = await flexq('export', fq, '--format', 'tflite', '-o', join(file, 'model.tflite'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('[FILE_SYSTEM]');
    expect(r.stderr).toContain(file);
    expect(r.stderr).not.toContain('internal error');
  });
});
