import { unaryContract } from './elementwise.js';

/** LeakyRelu(X) = x ≥ 0 ? x : alpha·x, element-wise. Attribute: alpha (0.01). */
export const leakyRelu = unaryContract('LeakyRelu', (x, n) => (x >= 0 ? x : Number(n.attrs.alpha ?? 0.01) * x));
