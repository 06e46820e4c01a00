import { reduceContract } from './reduce.js';

/** ReduceSum(X): the sum over attribute `axes` (all), kept as size-1 dims when keepdims (1). */
export const reduceSum = reduceContract('ReduceSum');
