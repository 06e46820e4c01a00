import { binaryContract } from './elementwise.js';

/** Mul(A, B): element-wise with numpy broadcasting. */
export const mul = binaryContract('Mul', (a, b) => a * b);
