import { binaryContract } from './elementwise.js';

/** Min(A, B): element-wise minimum with numpy broadcasting (ONNX's variadic Min is a chain of these). */
export const min = binaryContract('Min', Math.min);
