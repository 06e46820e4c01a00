import { unaryContract } from './elementwise.js';

/** Sigmoid(X) = 1 / (1 + exp(-x)), element-wise. */
export const sigmoid = unaryContract('Sigmoid', (x) => 1 / (1 + Math.exp(-x)));
