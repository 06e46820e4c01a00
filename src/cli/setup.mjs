#!/usr/bin/env node
// `npm run setup`: installs the npm dependencies when they are absent or older than package-lock.json (plain
// JavaScript, so it runs before any of them exist), then hands over to `flexq setup`, which checks the system
// tools and installs the missing ones.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const installed = `${root}node_modules/.package-lock.json`;
const lock = `${root}package-lock.json`;
// onnxruntime-node's install script would download GPU libraries (and fails offline); its CPU library ships inside.
const env = { ...process.env, ONNXRUNTIME_NODE_INSTALL: process.env.ONNXRUNTIME_NODE_INSTALL ?? 'skip' };

function run(command, args) {
  const r = spawnSync(command, args, { cwd: root, env, stdio: 'inherit' });
  if (r.error) {
    process.stderr.write(`flexq setup: ${command}: ${r.error.message}\n`);
    process.exit(1);
  }
  if (r.status !== 0) process.exit(r.status ?? 1);
}

if (!existsSync(installed) || statSync(installed).mtimeMs < statSync(lock).mtimeMs) {
  process.stderr.write('flexq setup: installing npm dependencies (npm ci)\n');
  run('npm', ['ci', '--no-audit', '--no-fund']);
}
run(process.execPath, [`${root}src/cli/flexq.mjs`, 'setup', ...process.argv.slice(2)]);
