// Runs a harness ELF in qemu-system-arm: one boot feeds every input through semihosting files (harness/qemu_main.c)
// and returns the outputs, the SysTick ticks of each inference and the stack high-water mark. With `icount`, QEMU
// runs one instruction per virtual nanosecond (-icount shift=0), so ticks convert to instructions through the
// harness's calibration loop of a known instruction count.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fail } from '../../src/errors.js';
import type { CortexMCore } from './boards.js';
import { runTool } from '../../src/run-tool.js';

export interface QemuRun {
  readonly outputs: Int8Array;
  /** With icount: the instructions of each inference, and the instructions per SysTick tick the calibration measured. */
  readonly counts?: { readonly instructions: readonly number[]; readonly instructionsPerTick: number };
  readonly stackBytes: number;
}

export interface QemuOptions {
  readonly icount: boolean;
  readonly timeoutMs?: number;
}

/** Runs `count` samples of `inputBytes` each; the harness writes `outputBytes` per sample. */
export async function runInQemu(elf: string, core: CortexMCore, inputs: Int8Array, count: number, outputBytes: number, o: QemuOptions): Promise<QemuRun> {
  const dir = mkdtempSync(join(tmpdir(), 'flexq-qemu-'));
  try {
    writeFileSync(join(dir, 'flexq-in.bin'), inputs);
    const args = ['-M', core.machine, '-nographic', '-monitor', 'none', '-semihosting-config', 'enable=on,target=native', '-kernel', elf];
    if (o.icount) args.push('-icount', 'shift=0');
    const r = await runTool('qemu-system-arm', args, { cwd: dir, timeoutMs: o.timeoutMs ?? 600_000 });
    if (r.exitCode !== 0)
      fail('UNSUPPORTED_ATTR', `${elf}: the harness on ${core.machine} exited with ${String(r.exitCode ?? r.signal)}${r.timedOut ? ' (timed out)' : ''}; 0xF0 + n is a fault in exception n.\n${r.stderr}`);
    const outputs = new Int8Array(readFileSync(join(dir, 'flexq-out.bin')));
    const stats = new Uint32Array(new Uint8Array(readFileSync(join(dir, 'flexq-stats.bin'))).buffer);
    if (outputs.length !== count * outputBytes || stats.length !== 3 + count)
      fail('UNSUPPORTED_ATTR', `${elf}: the harness on ${core.machine} returned ${outputs.length / outputBytes} outputs for ${count} inputs`);
    const [calibrationTicks, calibrationInstructions] = [stats[0], stats[1]];
    const instructionsPerTick = calibrationInstructions / calibrationTicks;
    const instructions = Array.from(stats.subarray(2, 2 + count), (t) => Math.round(t * instructionsPerTick));
    return { outputs, counts: o.icount ? { instructions, instructionsPerTick } : undefined, stackBytes: stats[2 + count] };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
