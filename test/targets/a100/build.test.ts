// The a100 kernel builds with the real nvcc for sm_80 and sm_90 (no GPU needed) and its PTX holds the IMMA
// instruction the kernel is written around, with the ldmatrix / cp.async data path feeding it.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { A100_ARCHS, buildA100, IMMA_INSTRUCTION, type A100Build } from '../../../targets/a100/build.js';

let build: A100Build;
beforeAll(async () => {
  build = await buildA100();
});

describe('a100 build', () => {
  it.each(A100_ARCHS)('emits IMMA PTX and a cubin for %s', (arch) => {
    const ptx = readFileSync(build.ptx[arch], 'utf8');
    expect(ptx).toContain(`.target ${arch}`);
    // Both kernels (dense and convolution rows) issue 4 × 4 MMAs per 32-deep step, two steps per 64-deep tile.
    expect(ptx.split(IMMA_INSTRUCTION).length - 1).toBe(64);
    expect(ptx).toContain('ldmatrix.sync.aligned.m8n8.x4.shared.b16');
    expect(ptx).toContain('cp.async.cg.shared.global');
    expect(ptx).toContain('cvt.rni.s32.f32');
    const cubin = readFileSync(build.cubin[arch]);
    expect(cubin.subarray(0, 4)).toEqual(Buffer.from([0x7f, 0x45, 0x4c, 0x46])); // an ELF
  });

  it('reuses the cached build', async () => {
    const again = await buildA100();
    expect(again.runner).toBe(build.runner);
  });
});
