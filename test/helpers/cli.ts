import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../src/cli/flexq.mjs', import.meta.url));

export interface CliResult { code: number; stdout: string; stderr: string }

/** Runs the real `flexq` executable, as a user would. */
export function flexq(...args: string[]): Promise<CliResult> {
  return flexqWithEnv({}, ...args);
}

/** Runs `flexq` with variables added to the environment. */
export function flexqWithEnv(env: NodeJS.ProcessEnv, ...args: string[]): Promise<CliResult> {
  return flexqIn({ env }, ...args);
}

/** Runs `flexq` in a working folder and/or with variables added to the environment. */
export function flexqIn(o: { cwd?: string; env?: NodeJS.ProcessEnv }, ...args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { maxBuffer: 64 << 20, cwd: o.cwd, env: { ...process.env, ...o.env } }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}
