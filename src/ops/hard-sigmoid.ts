import { unaryContract } from './elementwise.js';

/** HardSigmoid(X) = max(0, min(1, alpha·X + beta)). Attributes: alpha (0.2), beta (0.5). */
export const hardSigmoid = unaryContract('HardSigmoid');
