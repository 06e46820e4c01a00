import { unaryContract } from './elementwise.js';

/** Floor(X), element-wise (exporters' shape arithmetic: sizes from scales). */
export const floor = unaryContract('Floor', Math.floor);
