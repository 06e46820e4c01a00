// A fuzz worker thread: loads the TypeScript sources through tsx (as src/cli/flexq.mjs does), then runs cases.
import { register } from 'tsx/esm/api';

register();
await import('./worker-main.ts');
