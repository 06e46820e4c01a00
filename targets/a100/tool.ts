// Runs an external program (nvcc, the runner) without a shell and collects its exit status and output.
// node:child_process rather than execa: execa 10 needs Node 22 (Set.prototype.union) and flexq supports Node 20.

import { execFile } from 'node:child_process';

export interface ToolResult {
  /** The exit status, or null when the program could not be started (then `stderr` says why). */
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function runTool(file: string, args: readonly string[]): Promise<ToolResult> {
  return new Promise((resolve) => {
    execFile(file, args, { maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (!error) return resolve({ exitCode: 0, stdout, stderr });
      const code = (error as NodeJS.ErrnoException & { code?: unknown }).code;
      resolve(typeof code === 'number' ? { exitCode: code, stdout, stderr } : { exitCode: null, stdout, stderr: `${stderr}${error.message}` });
    });
  });
}
