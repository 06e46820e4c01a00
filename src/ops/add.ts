import { binaryContract } from './elementwise.js';

/** Add(A, B): element-wise with numpy broadcasting. */
export const add = binaryContract('Add', (a, b) => a + b);
