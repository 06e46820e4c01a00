import type { Dim, Shape } from '../ir/shape.js';

/** Symbolic product of dims: a number times a sorted list of symbols. */
function product(dims: readonly Dim[]): { n: number; syms: string[] } {
  let n = 1;
  const syms: string[] = [];
  for (const d of dims) typeof d === 'number' ? (n *= d) : syms.push(d);
  return { n, syms: syms.sort() };
}

/**
 * Resolves an ONNX reshape target against the input shape: 0 copies the input dim (unless allowzero),
 * −1 takes what is left. Returns undefined for −1 when the symbols do not cancel.
 */
export function resolveReshape(input: Shape, target: readonly number[], allowZero: boolean): Dim[] | undefined {
  const dims: Dim[] = target.map((t, i) => (t === 0 && !allowZero ? input[i] : t));
  const free = dims.indexOf(-1);
  if (free < 0) return dims;
  const total = product(input);
  const known = product(dims.filter((_, i) => i !== free));
  const left = [...total.syms];
  for (const s of known.syms) {
    const k = left.indexOf(s);
    if (k < 0) return undefined;
    left.splice(k, 1);
  }
  const ratio = total.n / known.n;
  if (left.length === 0) dims[free] = ratio;
  else if (left.length === 1 && ratio === 1) dims[free] = left[0];
  else return undefined;
  return dims;
}
