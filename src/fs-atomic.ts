import { existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fail } from './errors.js';

/** Writes a file so readers see the old file or the whole new one, never a part: temp file + rename. */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  if (existsSync(path) && statSync(path).isDirectory()) fail('OUTPUT_REFUSED', `-o ${path}: a folder of that name exists, and flexq writes a file here; give a file path`);
  mkdirSync(dirname(path), { recursive: true });
  const temp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(temp, data);
    renameSync(temp, path);
  } catch (e) {
    rmSync(temp, { force: true });
    throw e;
  }
}
