// Installs missing system tools with Debian's apt-get, as root or through passwordless sudo; otherwise says the
// exact command to run. apt-get update runs only when something is missing.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fail } from './errors.js';
import type { SystemTool } from './system-tools.js';

/** How this process can run apt-get: directly, through sudo without a password, or not at all. */
export type AptAccess = { kind: 'root' } | { kind: 'sudo' } | { kind: 'none'; why: string };

const succeeds = (command: string, args: readonly string[]): boolean => spawnSync(command, args, { stdio: 'ignore', timeout: 30_000 }).status === 0;

export function aptAccess(): AptAccess {
  if (!succeeds('apt-get', ['--version'])) return { kind: 'none', why: 'apt-get is not available (not a Debian-family system)' };
  if (process.getuid?.() === 0) return { kind: 'root' };
  if (succeeds('sudo', ['-n', 'true'])) return { kind: 'sudo' };
  return { kind: 'none', why: 'not root, and sudo needs a password' };
}

const DEBIAN_SOURCES = '/etc/apt/sources.list.d/debian.sources';
const BACKPORTS_SOURCES = '/etc/apt/sources.list.d/flexq-backports.sources';

/** Debian 12's suite, whose Mesa (22) Dawn refuses: the Vulkan driver comes from bookworm-backports there. */
function needsBackports(): boolean {
  if (!existsSync('/etc/os-release')) return false;
  return /^VERSION_CODENAME=bookworm$/m.test(readFileSync('/etc/os-release', 'utf8')) && existsSync(DEBIAN_SOURCES);
}

/** The backports stanza: the system's own first Debian stanza with the suite changed. */
function backportsStanza(): string {
  const first = readFileSync(DEBIAN_SOURCES, 'utf8').split(/\n\s*\n/)[0];
  return first.replace(/^Suites:.*$/m, 'Suites: bookworm-backports') + '\n';
}

/** The shell commands that install `tools` on this system, in order (for a person to run, or for us to). */
export function installSteps(tools: readonly SystemTool[]): string[][] {
  const plain = tools.filter((t) => !(t.backports && needsBackports())).flatMap((t) => t.packages);
  const backported = tools.filter((t) => t.backports && needsBackports()).flatMap((t) => t.packages);
  const install = ['apt-get', 'install', '-y', '-qq', '--no-install-recommends'];
  return [
    ['apt-get', 'update', '-qq'],
    ...(plain.length ? [[...install, ...plain]] : []),
    ...(backported.length ? [[...install, '-t', 'bookworm-backports', ...backported]] : []),
  ];
}

/** The install steps as one shell line a person runs (`sudo` before each step when asked). */
export function installCommand(tools: readonly SystemTool[], o: { sudo?: boolean } = {}): string {
  return installSteps(tools).map((s) => `${o.sudo ? 'sudo ' : ''}${s.join(' ')}`).join(' && ');
}

/** Installs the packages of `tools` (apt-get must be reachable: see aptAccess). Fails with the step that failed and its output. */
export function installWithApt(tools: readonly SystemTool[], access: Exclude<AptAccess, { kind: 'none' }>, log: (line: string) => void): void {
  const sudo = access.kind === 'sudo' ? ['sudo', '-n'] : [];
  if (tools.some((t) => t.backports) && needsBackports() && !existsSync(BACKPORTS_SOURCES)) {
    log(`adding bookworm-backports (${BACKPORTS_SOURCES}) for Mesa ≥ 23`);
    if (access.kind === 'root') writeFileSync(BACKPORTS_SOURCES, backportsStanza());
    else spawnSync('sudo', ['-n', 'tee', BACKPORTS_SOURCES], { input: backportsStanza(), stdio: ['pipe', 'ignore', 'inherit'] });
  }
  for (const step of installSteps(tools)) {
    const [command, ...args] = [...sudo, ...step];
    log(`$ ${[...sudo, ...step].join(' ')}`);
    // dpkg's unpacking log is long and says nothing useful unless a step fails: kept, and shown only then.
    const r = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 256 << 20, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    if (r.status !== 0) fail('TOOL_FAILED', `'${step.join(' ')}' failed (exit ${r.status ?? r.signal}); its output:\n${r.stdout ?? ''}${r.stderr ?? ''}`);
  }
}
