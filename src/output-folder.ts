// Output folders that never lose a user's files. A folder is built whole in a hidden sibling, then moved into
// place; a folder flexq wrote before carries a manifest of its files, and only those files are ever replaced or
// removed. A folder that holds anything else is refused unless the user passes --force, and even then only the
// files flexq writes are replaced: nothing else in it is touched. The working folder, its parents, the home
// folder and the root are never an output folder.

import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { fail } from './errors.js';
import { FLEXQ_VERSION } from './version.js';

/** The manifest flexq leaves in every folder it writes: the files it owns there. */
export const OUTPUT_MANIFEST = '.flexq-output.json';
const MANIFEST_FORMAT = 'flexq-output/1';

interface Manifest {
  readonly format: string;
  readonly version: string;
  /** Paths relative to the folder, '/'-separated, sorted. */
  readonly files: readonly string[];
}

export interface OutputFolderOptions {
  /** Write into a non-empty folder that flexq did not write (only flexq's files in it are replaced). */
  readonly force?: boolean;
}

/** Every file under `dir` (not folders), relative and '/'-separated, sorted. */
function listFiles(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...listFiles(dir, rel));
    else out.push(rel);
  }
  return out.sort();
}

function readManifest(dir: string): Manifest | undefined {
  const path = join(dir, OUTPUT_MANIFEST);
  if (!existsSync(path)) return undefined;
  try {
    const m = JSON.parse(readFileSync(path, 'utf8')) as Manifest;
    if (m.format === MANIFEST_FORMAT && Array.isArray(m.files) && m.files.every((f) => typeof f === 'string' && !f.split('/').includes('..'))) return m;
  } catch {
    // An unreadable manifest proves nothing: the folder is treated as foreign.
  }
  return undefined;
}

/** True when `inner` is `outer` or lies inside it. */
const within = (inner: string, outer: string): boolean => inner === outer || inner.startsWith(outer.endsWith(sep) ? outer : outer + sep);

/**
 * Checks that `dir` may become an output folder, before any work is done: it is not a protected folder, not a
 * file, and either absent, empty, written by flexq before, or `force` is given. Fails with what to do.
 */
export function checkOutputFolder(dir: string, o: OutputFolderOptions = {}): void {
  const abs = resolve(dir);
  const protectedFolder = abs === resolve('/') || within(process.cwd(), abs) || abs === homedir();
  if (protectedFolder)
    fail('OUTPUT_REFUSED', `-o ${dir}: flexq never writes its output folder over ${abs === homedir() ? 'the home folder' : 'the working folder or one of its parents'} (${abs}); give a new folder, e.g. -o ${join(dir, 'flexq-out')}`);
  if (!existsSync(abs)) return;
  if (!lstatSync(abs).isDirectory()) fail('OUTPUT_REFUSED', `-o ${dir}: expected a folder, found a file; give a folder path (it is created if absent)`);
  if (readManifest(abs) || o.force) return;
  const present = listFiles(abs);
  if (present.length === 0) return;
  const shown = present.slice(0, 3).join(', ') + (present.length > 3 ? `, … (${present.length} files)` : '');
  fail('OUTPUT_REFUSED', `-o ${dir}: the folder holds files flexq did not write (${shown}); flexq writes only into a new or empty folder or one it wrote before. Choose another -o, or add --force to write flexq's files into it (the other files are kept).`);
}

/** Moves `from` onto `to`, creating `to`'s folder. */
function moveFile(from: string, to: string): void {
  mkdirSync(dirname(to), { recursive: true });
  if (existsSync(to) && statSync(to).isDirectory())
    fail('OUTPUT_REFUSED', `${to}: flexq must write a file here, but a folder of that name exists; move it away or choose another -o`);
  renameSync(from, to);
}

/** Removes the folders under `dir` that emptied (deepest first), leaving `dir` itself. */
function removeEmptyFolders(dir: string, rels: readonly string[]): void {
  const folders = new Set(rels.flatMap((rel) => rel.split('/').slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join('/'))));
  for (const folder of [...folders].sort((a, b) => b.length - a.length)) {
    const path = join(dir, folder);
    if (existsSync(path) && readdirSync(path).length === 0) rmdirSync(path);
  }
}

/**
 * Writes an output folder: `build` fills a hidden sibling folder (it may be called with a folder that already
 * exists and is empty), which is then moved into place. An absent or empty `dir` is replaced in one rename.
 * Otherwise the files flexq wrote there before and no longer writes are removed, and the new files are moved in
 * one by one; files flexq did not write are never touched. Returns the paths written, under `dir`.
 */
export async function writeOutputFolder(dir: string, build: (staging: string) => void | Promise<void>, o: OutputFolderOptions = {}): Promise<string[]> {
  checkOutputFolder(dir, o);
  const abs = resolve(dir);
  mkdirSync(dirname(abs), { recursive: true });
  const staging = join(dirname(abs), `.${basename(abs)}.flexq-tmp-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging);
  try {
    await build(staging);
    const files = listFiles(staging).filter((f) => f !== OUTPUT_MANIFEST);
    const manifest: Manifest = { format: MANIFEST_FORMAT, version: FLEXQ_VERSION, files };
    writeFileSync(join(staging, OUTPUT_MANIFEST), JSON.stringify(manifest, null, 2) + '\n');
    if (existsSync(abs) && readdirSync(abs).length === 0) rmdirSync(abs);
    if (!existsSync(abs)) {
      renameSync(staging, abs);
    } else {
      const previous = readManifest(abs)?.files ?? [];
      const stale = previous.filter((f) => !files.includes(f));
      for (const rel of stale) rmSync(join(abs, rel), { force: true });
      removeEmptyFolders(abs, stale);
      for (const rel of [...files, OUTPUT_MANIFEST]) moveFile(join(staging, rel), join(abs, rel));
    }
    return files.map((f) => join(dir, f));
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
