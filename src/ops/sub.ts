import { binaryContract } from './elementwise.js';

/** Sub(A, B): element-wise with numpy broadcasting. */
export const sub = binaryContract('Sub', (a, b) => a - b);
