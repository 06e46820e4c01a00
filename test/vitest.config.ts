import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // The config lives in test/ to keep the top level to what the layout fixes; tests run from the repo root.
  root: fileURLToPath(new URL('..', import.meta.url)),
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['default', './test/helpers/missing-tools-reporter.ts'],
    // Native onnxruntime and the tfjs wasm module are safest in separate processes.
    pool: 'forks',
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
});
