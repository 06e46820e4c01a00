// Runs an external program (arm-none-eabi-gcc, qemu-system-arm, nvcc, the GPU runner) without a shell and collects
// its output. node:child_process rather than execa: execa 10 needs Node ≥ 22 (Set.prototype.union) and flexq
// supports Node 20.

import { spawn } from 'node:child_process';
import { FlexqError } from './errors.js';

export interface ToolResult {
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

/** Runs `command`; a program that cannot be started (not installed, not executable) is a TOOL_FAILED error. */
export function runTool(command: string, args: readonly string[], o: { cwd?: string; timeoutMs?: number } = {}): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: o.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const [out, err]: Buffer[][] = [[], []];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    let timedOut = false;
    const timer = o.timeoutMs === undefined ? undefined : setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, o.timeoutMs);
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const hint = e.code === 'ENOENT' ? 'it is not installed or not on the PATH; `npm run setup` installs the tools flexq uses' : e.message;
      reject(new FlexqError('TOOL_FAILED', `${command} could not be started: ${hint}`));
    });
    child.on('close', (exitCode, signal) => {
      clearTimeout(timer);
      resolve({ exitCode, signal, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), timedOut });
    });
  });
}
