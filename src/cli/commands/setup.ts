import type { Command } from 'commander';
import { aptAccess, installCommand, installSteps, installWithApt } from '../../install-tools.js';
import { fail } from '../../errors.js';
import { SYSTEM_TOOLS, type SystemToolName } from '../../system-tools.js';

interface SetupOptions { check?: boolean; json?: boolean }

interface ToolStatus { name: SystemToolName; title: string; present: boolean; optional: boolean; neededFor: string; packages: readonly string[] }

const probe = (): ToolStatus[] =>
  SYSTEM_TOOLS.map((t) => ({ name: t.name, title: t.title, present: t.present(), optional: t.optional === true, neededFor: t.neededFor, packages: t.packages }));

/** Checks every system tool and installs the missing ones with apt-get where this process may; otherwise prints the command. */
async function setup(o: SetupOptions): Promise<void> {
  const log = (line: string) => process.stderr.write(`flexq setup: ${line}\n`);
  let tools = probe();
  const missing = () => SYSTEM_TOOLS.filter((t) => !t.optional && !tools.find((s) => s.name === t.name)!.present);
  let manual: string | undefined;
  if (missing().length && !o.check) {
    const access = aptAccess();
    if (access.kind === 'none') {
      manual = `${access.why}; install them with:\n  ${installCommand(missing(), { sudo: true })}`;
    } else {
      log(`installing ${missing().map((t) => t.title).join(', ')}`);
      installWithApt(missing(), access, log);
      tools = probe();
    }
  } else if (missing().length) {
    manual = `install them with (as root):\n  ${installCommand(missing())}`;
  }
  const still = missing();
  if (o.json) process.stdout.write(JSON.stringify({ tools, missing: still.map((t) => t.name), install: still.length ? installSteps(still).map((s) => s.join(' ')) : [] }) + '\n');
  if (still.length === 0) {
    const absent = tools.filter((t) => !t.present).map((t) => `${t.title} (optional: ${t.neededFor})`);
    log(`every tool the tests need is present${absent.length ? `; absent: ${absent.join(', ')}` : ''}`);
    return;
  }
  for (const t of still) log(`missing ${t.title}: needed for ${t.neededFor}`);
  if (manual) log(manual);
  if (process.env.FLEXQ_REQUIRE_TOOLS === '1')
    fail('TOOL_FAILED', `FLEXQ_REQUIRE_TOOLS=1 and ${still.map((t) => t.title).join(', ')} ${still.length > 1 ? 'are' : 'is'} missing; install ${still.length > 1 ? 'them' : 'it'} as shown above`);
  log('the tests that need them will be skipped');
}

export function registerSetup(program: Command): void {
  program
    .command('setup')
    .description('check the system tools flexq uses (arm-none-eabi-gcc, QEMU, Chromium, Vulkan, nvcc) and install the missing ones with apt-get')
    .option('--check', 'only report; install nothing')
    .option('--json', 'one JSON object on stdout')
    .action((o: SetupOptions) => setup(o));
}
