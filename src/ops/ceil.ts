import { unaryContract } from './elementwise.js';

/** Ceil(X), element-wise. */
export const ceil = unaryContract('Ceil', Math.ceil);
