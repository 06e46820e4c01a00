import { unaryContract } from './elementwise.js';

/** Sqrt(X), element-wise. */
export const sqrt = unaryContract('Sqrt', Math.sqrt);
