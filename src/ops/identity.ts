import { unaryContract } from './elementwise.js';

/** Identity(X) = x, element-wise. */
export const identity = unaryContract('Identity', (x) => x);
