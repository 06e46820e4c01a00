// Reconstruction end to end through the real CLI on ResNet-8: it beats rounding to nearest on held-out data,
// a run killed mid-way and resumed ends with the bytes of an uninterrupted run (so the same seed gives the same
// bytes across processes), and a resume with other options is refused.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../src/random.js';
import { flexq } from '../helpers/cli.js';
import { data, model } from '../helpers/shared.js';

const BIN = fileURLToPath(new URL('../../src/cli/flexq.mjs', import.meta.url));
const RESNET8 = model('resnet8-cifar10/float.onnx');
const TEST = data('cifar10/test-200');
// Small enough for CI: 128 calibration images, 30 iterations per layer, W3 where RTN loses ~27 points. Layer by layer,
// so that the kill tests have ten checkpoints to kill between (block by block ResNet-8 has five).
const args = (out: string, ...more: string[]) =>
  ['quantize', RESNET8, '--calib', data('cifar10/calib-1024'), '--samples', '128', '--wbits', '3', '--abits', '32', '--method', 'flexround', '--granularity', 'layer', '--iters', '30', '--seed', '7', '-o', out, ...more];

let dir: string;
let uninterrupted: string;

async function top1(fq: string): Promise<number> {
  const r = await flexq('eval', fq, '--data', TEST, '--json');
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout).top1;
}

/** Starts a quantize run and SIGKILLs it once its checkpoint says `units` units are done. */
function killAfterUnits(out: string, units: number, run: string[] = args(out)): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...run], { stdio: 'ignore' });
    const poll = setInterval(() => {
      try {
        if (existsSync(`${out}.resume`) && JSON.parse(readFileSync(`${out}.resume`, 'utf8')).unitsDone >= units) child.kill('SIGKILL');
      } catch {
        // a checkpoint is replaced atomically; a read between rename and parse simply retries
      }
    }, 50);
    child.on('exit', (code, signal) => {
      clearInterval(poll);
      if (signal === 'SIGKILL') resolve();
      else reject(new Error(`the run ended by itself (code ${code}) before it could be killed`));
    });
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'flexq-recon-'));
  uninterrupted = join(dir, 'a.fq');
  const r = await flexq(...args(uninterrupted));
  expect(r.code, r.stderr).toBe(0);
});

describe('flexq quantize --method flexround', { timeout: 120_000 }, () => {
  it('beats rounding to nearest by a wide margin at 3 bits, on images calibration never saw', async () => {
    const rtn = join(dir, 'rtn.fq');
    const r = await flexq('quantize', RESNET8, '--calib', data('cifar10/calib-1024'), '--samples', '128', '--wbits', '3', '--abits', '32', '-o', rtn);
    expect(r.code, r.stderr).toBe(0);
    const [flex, base] = [await top1(uninterrupted), await top1(rtn)];
    expect(base).toBeLessThan(0.65);
    expect(flex).toBeGreaterThan(base + 0.1);
  });

  it('resumes after a SIGKILL and ends with the same bytes as the uninterrupted run', async () => {
    const out = join(dir, 'b.fq');
    await killAfterUnits(out, 3);
    expect(existsSync(out)).toBe(false);
    const r = await flexq(...args(out, '--resume'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/resuming after [3-9] units/);
    expect(Buffer.compare(readFileSync(out), readFileSync(uninterrupted))).toBe(0);
    expect(existsSync(`${out}.resume`)).toBe(false);
  });

  it('with learned activation steps (W4A8), three kills at seeded points and three resumes give the uninterrupted bytes', async () => {
    // W4A8 learns LSQ steps: a resumed run must read back exactly the steps the killed run went on with.
    const w4a8 = (out: string, ...more: string[]) => [...args(out, '--wbits', '4', '--abits', '8', '--iters', '10'), ...more];
    const whole = join(dir, 'w4a8.fq');
    expect((await flexq(...w4a8(whole))).code).toBe(0);
    const out = join(dir, 'w4a8-killed.fq');
    const random = mulberry32(2026);
    // ResNet-8 has 10 layers: kill after 1–3, then 2–3 more, then 2–3 more units.
    let units = 0;
    for (let kill = 0; kill < 3; kill++) {
      units += 1 + Math.floor(random() * 3);
      await killAfterUnits(out, units, kill === 0 ? w4a8(out) : w4a8(out, '--resume'));
    }
    const r = await flexq(...w4a8(out, '--resume'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/resuming after \d+ units/);
    expect(Buffer.compare(readFileSync(out), readFileSync(whole))).toBe(0);
  });

  it('block by block (the default unit) with learned activation steps, killed after 2 of 5 blocks, resumes to the uninterrupted bytes', async () => {
    const block = (out: string, ...more: string[]) => [...args(out, '--granularity', 'block', '--wbits', '4', '--abits', '8', '--iters', '10'), ...more];
    const whole = join(dir, 'block.fq');
    expect((await flexq(...block(whole))).code).toBe(0);
    const out = join(dir, 'block-killed.fq');
    await killAfterUnits(out, 2, block(out));
    const r = await flexq(...block(out, '--resume'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/resuming after [2-4] units/);
    expect(Buffer.compare(readFileSync(out), readFileSync(whole))).toBe(0);
  });

  it('refuses to resume a checkpoint made with other options', async () => {
    const out = join(dir, 'c.fq');
    await killAfterUnits(out, 1);
    const r = await flexq(...args(out, '--resume', '--lr', '0.002'));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${out}.resume was written by a run with another model, data or options`);
  });
});
