import { binaryContract } from './elementwise.js';

/** Max(A, B): element-wise maximum with numpy broadcasting (ONNX's variadic Max is a chain of these). */
export const max = binaryContract('Max', Math.max);
