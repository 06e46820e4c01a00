import { unaryContract } from './elementwise.js';

/** Elu(X) = x > 0 ? x : alpha·(eˣ − 1), element-wise. Attribute: alpha (1). */
export const elu = unaryContract('Elu', (x, n) => (x > 0 ? x : Number(n.attrs.alpha ?? 1) * Math.expm1(x)));
