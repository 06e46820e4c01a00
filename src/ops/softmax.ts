import { unaryContract } from './elementwise.js';

/** Softmax over one axis (opset-13 semantics). Attribute: axis. */
export const softmax = unaryContract('Softmax');
