import { unaryContract } from './elementwise.js';

/** Tanh(X), element-wise. */
export const tanh = unaryContract('Tanh', Math.tanh);
