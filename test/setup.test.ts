// The README's promise on a fresh machine: `flexq setup` names each missing system tool and the command that
// installs it; tests that need a missing tool are skipped with one summary line (exit 0), unless
// FLEXQ_REQUIRE_TOOLS=1, where they fail. The toolchain is hidden by running with a PATH that holds only node.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { flexqIn } from './helpers/cli.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const VITEST = join(ROOT, 'node_modules', 'vitest', 'vitest.mjs');
const bare = mkdtempSync(join(tmpdir(), 'flexq-bare-path-'));
symlinkSync(process.execPath, join(bare, 'node'));
afterAll(() => rmSync(bare, { recursive: true, force: true }));

/** The environment of a machine without the Debian toolchain: PATH holds node alone. */
const withoutToolchain = (require: boolean): NodeJS.ProcessEnv => ({ PATH: bare, FLEXQ_REQUIRE_TOOLS: require ? '1' : '' });

function vitest(env: NodeJS.ProcessEnv, ...args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [VITEST, 'run', '--config', 'test/vitest.config.ts', ...args], { cwd: ROOT, env: { ...process.env, ...env }, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: stdout + stderr });
    });
  });
}

describe('on a machine without the Arm toolchain and QEMU', () => {
  it('flexq setup --check names what is missing and the apt-get command, and exits 0', async () => {
    const r = await flexqIn({ env: withoutToolchain(false) }, 'setup', '--check', '--json');
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { missing: string[]; install: string[] };
    expect(report.missing).toEqual(expect.arrayContaining(['arm-gcc', 'qemu-arm']));
    expect(report.install.join(' && ')).toMatch(/apt-get install .*gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm/);
    expect(r.stderr).toContain('missing arm-none-eabi-gcc with newlib');
  });

  it('with FLEXQ_REQUIRE_TOOLS=1, flexq setup --check fails', async () => {
    const r = await flexqIn({ env: withoutToolchain(true) }, 'setup', '--check');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('FLEXQ_REQUIRE_TOOLS=1');
  });

  it('the QEMU tests skip with one summary line naming the tools and the install command, and the run passes', async () => {
    const r = await vitest(withoutToolchain(false), 'test/targets/cortex-m/qemu-m4.test.ts');
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/Tests\s+.*\d+ skipped/);
    expect(r.out).toMatch(/flexq: \d+ tests skipped; missing system tools: arm-none-eabi-gcc with newlib, qemu-system-arm.*npm run setup/);
  });

  it('with FLEXQ_REQUIRE_TOOLS=1 the same tests fail instead of skipping', async () => {
    const built = await vitest(withoutToolchain(true), 'test/targets/cortex-m/compile-cli.test.ts', '-t', 'writes model.fq');
    expect(built.code).not.toBe(0);
    expect(built.out).toMatch(/arm-none-eabi-(gcc|size) could not be started: it is not installed/);
  });
});
