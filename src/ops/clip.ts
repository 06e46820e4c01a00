import { unaryContract } from './elementwise.js';

/** Clip(X) = min(max(X, min), max). Normalized attributes: min, max (numbers; ±Infinity when absent). */
export const clip = unaryContract('Clip');
