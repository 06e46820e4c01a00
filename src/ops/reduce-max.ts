import { reduceContract } from './reduce.js';

/** ReduceMax(X): the maximum over attribute `axes` (all), kept as size-1 dims when keepdims (1). */
export const reduceMax = reduceContract('ReduceMax');
