import { unaryContract } from './elementwise.js';

/** HardSwish(X) = x · relu6(x + 3) / 6, element-wise. */
export const hardSwish = unaryContract('HardSwish');
