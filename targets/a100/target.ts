// The A100 target: conv/FC layers through flexq's IMMA CUDA kernel on an NVIDIA GPU (sm_80+), the other ops on the
// integer runtime in its a100 mode.
import type { Target } from '../../src/target.js';
import { a100Executor } from './executor.js';
import { KERNELS } from '../../runtime/kernels/registry.js';

export const A100_TARGET: Target = {
  name: 'a100',
  description: 'NVIDIA A100/H100 Tensor Cores: int8 IMMA kernel built with nvcc (needs an NVIDIA GPU to run)',
  executors: { a100: a100Executor },
  // Conv and FC run on the IMMA kernel; every other op on the integer runtime (its a100 mode).
  cannotDeploy: (node) => (KERNELS.has(node.op) ? undefined : `the integer runtime has no ${node.op} kernel`),
};
