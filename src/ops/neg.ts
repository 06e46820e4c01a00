import { unaryContract } from './elementwise.js';

/** Neg(X) = −x, element-wise. */
export const neg = unaryContract('Neg', (x) => -x);
