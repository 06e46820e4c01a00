import { unaryContract } from './elementwise.js';

/** Sigmoid(X) = 1 / (1 + exp(-x)), element-wise. */
export const sigmoid = unaryContract('Sigmoid');
