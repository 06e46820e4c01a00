// The generated C of ResNet-8, DS-CNN and MNIST-8 on the cortex-m7: one QEMU boot per (model, kernels) runs
// PROOF_INPUTS held-out inputs, and every output byte equals the integer runtime's.
import { proveInQemu } from './prove-in-qemu.js';

proveInQemu('cortex-m7');
