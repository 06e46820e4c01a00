import { reduceContract } from './reduce.js';

/** ReduceMean(X): the mean over attribute `axes` (all), kept as size-1 dims when keepdims (1). */
export const reduceMean = reduceContract('ReduceMean');
