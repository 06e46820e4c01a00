import { unaryContract } from './elementwise.js';

/** Relu(X) = max(x, 0), element-wise. */
export const relu = unaryContract('Relu', (x) => Math.max(x, 0));
