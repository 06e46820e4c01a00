import { binaryContract } from './elementwise.js';

/** Div(A, B): element-wise with numpy broadcasting; integer tensors truncate toward zero as in ONNX. */
export const div = binaryContract('Div', (a, b) => a / b);
