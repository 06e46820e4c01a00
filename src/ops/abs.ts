import { unaryContract } from './elementwise.js';

/** Abs(X) = |x|, element-wise. */
export const abs = unaryContract('Abs', Math.abs);
