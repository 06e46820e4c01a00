// The QEMU proof suite of one core (one test file per core, so vitest runs the cores in parallel).

import { beforeAll, describe, expect, it } from 'vitest';
import { CORTEX_M_CORES, type CoreName } from '../../../targets/cortex-m/boards.js';
import { buildElf } from '../../../targets/cortex-m/build.js';
import { KERNEL_SETS } from '../../../targets/cortex-m/lower.js';
import { generateC } from '../../../targets/cortex-m/library.js';
import { runInQemu } from '../../../targets/cortex-m/qemu.js';
import { lacksTools } from '../../helpers/tools.js';
import { mismatchedBytes, MODEL_CASES, prepareCase, PROOF_INPUTS, type PreparedCase } from './cases.js';

export function proveInQemu(coreName: CoreName): void {
  const core = CORTEX_M_CORES[coreName];
  for (const c of MODEL_CASES) {
    describe.skipIf(lacksTools('arm-gcc', 'qemu-arm'))(`${c.name} on ${core.name} (${core.machine})`, () => {
      let p: PreparedCase;
      beforeAll(async () => {
        p = await prepareCase(c);
      });
      for (const kernels of KERNEL_SETS) {
        it(`${kernels} kernels: ${PROOF_INPUTS} outputs equal the integer runtime's bytes`, async () => {
          const generated = generateC(p.q, kernels);
          const { elf } = await buildElf(generated, core, c.name);
          const run = await runInQemu(elf, core, p.inputs, p.count, generated.outputBytes, { icount: false });
          expect(p.count).toBe(PROOF_INPUTS);
          expect(mismatchedBytes(run.outputs, p.expected)).toBe(0);
          expect(run.stackBytes).toBeGreaterThan(0);
        });
      }
    });
  }
}
