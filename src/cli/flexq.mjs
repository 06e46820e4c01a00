#!/usr/bin/env node
// The `flexq` executable: runs the TypeScript sources through tsx, so there is no build step to go stale.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./main.ts');
// Exit explicitly: the wasm runtime keeps handlers that would otherwise print its own source on errors.
process.exit(await main(process.argv.slice(2)));
