import { describe, expect, it } from 'vitest';
import { openBackend } from '../../src/backend/select.js';
import { FlexqError } from '../../src/errors.js';

async function installed(name: string): Promise<boolean> {
  return import(name).then(() => true, () => false);
}

describe('openBackend', () => {
  it('ort-cpu, and wasm and cpu as the tfjs engines', async () => {
    const ortCpu = await openBackend('ort-cpu');
    expect(ortCpu.name).toBe('ort-cpu');
    await ortCpu.dispose();
    expect((await openBackend('wasm')).name).toBe('tfjs-wasm');
    expect((await openBackend('cpu')).name).toBe('tfjs-cpu');
  });

  it('tensorflow needs the optional tfjs-node peer, and says how to install it', async () => {
    const present = (await installed('@tensorflow/tfjs-node-gpu')) || (await installed('@tensorflow/tfjs-node'));
    const result = await openBackend('tensorflow').catch((e: unknown) => e);
    if (present) expect((result as { name: string }).name).toBe('tfjs-tensorflow');
    else {
      expect(result).toBeInstanceOf(FlexqError);
      expect((result as FlexqError).code).toBe('BACKEND_UNAVAILABLE');
      expect((result as FlexqError).message).toMatch(/npm install @tensorflow\/tfjs-node/);
    }
  });
});
