/** A dimension: a size, or a symbol (a dynamic dimension such as the batch 'N'). */
export type Dim = number | string;
export type Shape = readonly Dim[];

export function isStatic(shape: Shape): shape is readonly number[] {
  return shape.every((d) => typeof d === 'number');
}

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function formatShape(shape: Shape): string {
  return `[${shape.join(',')}]`;
}

/** The product of dims: a number when all are known, else a symbol spelling the product (e.g. 'N*3'). */
export function productDim(dims: readonly Dim[]): Dim {
  const n = dims.reduce<number>((a, d) => (typeof d === 'number' ? a * d : a), 1);
  const syms = dims.filter((d): d is string => typeof d === 'string');
  if (syms.length === 0) return n;
  return n === 1 && syms.length === 1 ? syms[0] : [...(n === 1 ? [] : [String(n)]), ...syms].join('*');
}

/**
 * Numpy-style broadcasting of two shapes; undefined when they do not broadcast. Two different symbols (a detector's
 * lateral map and an up-sampled deeper one, both H/4) may be equal at run time, as ONNX's shape inference allows:
 * the output keeps the first; a symbol against a size above 1 gives that size.
 */
export function broadcastShapes(a: Shape, b: Shape): Dim[] | undefined {
  const rank = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    const x = a[a.length - rank + i] ?? 1;
    const y = b[b.length - rank + i] ?? 1;
    if (x === y || y === 1) out.push(x);
    else if (x === 1) out.push(y);
    else if (typeof x === 'string') out.push(y);
    else if (typeof y === 'string') out.push(x);
    else return undefined;
  }
  return out;
}

/** Resolves a possibly negative axis against a rank. */
export function normalizeAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

/** Whether the bracket opening s at index 0 closes at its last character (so s is one group). */
function oneGroup(s: string): boolean {
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    depth += '(⌊⌈'.includes(s[i]) ? 1 : ')⌋⌉'.includes(s[i]) ? -1 : 0;
    if (depth === 0 && i < s.length - 1) return false;
  }
  return depth === 0 && '(⌊⌈'.includes(s[0]);
}

/** A symbol plus a constant, e.g. 'H-1'; a trailing constant of the symbol is folded in ('X+1' − 1 → 'X'). */
export function offsetSymbol(d: string, offset: number): string {
  const tail = /^(.*[^+-])([+-]\d+)$/.exec(d);
  const [base, total] = tail ? [tail[1], Number(tail[2]) + offset] : [d, offset];
  return total === 0 ? base : `${base}${total > 0 ? '+' : '-'}${Math.abs(total)}`;
}

/** A symbol as an operand of a larger expression: compound ones in parentheses. */
const operand = (d: string): string => (/^[\w:]+$/.test(d) || oneGroup(d) ? d : `(${d})`);

/**
 * Output length of a sliding window (convolution, pooling) along one axis; for a symbol, the expression of it
 * (a stride-2 conv of H with pads 1+1 and kernel 3 gives '⌊(H-1)/2⌋+1'), so inspect shows what each layer's size is.
 */
export function windowOutput(input: Dim, kernel: number, stride: number, padBefore: number, padAfter: number, dilation: number, ceil = false): Dim {
  const span = (kernel - 1) * dilation + 1;
  if (typeof input === 'string') {
    const offset = padBefore + padAfter - span;
    if (stride === 1) return offsetSymbol(input, offset + 1);
    return `${ceil ? '⌈' : '⌊'}${operand(offsetSymbol(input, offset))}/${stride}${ceil ? '⌉' : '⌋'}+1`;
  }
  const q = (input + padBefore + padAfter - span) / stride;
  return (ceil ? Math.ceil(q) : Math.floor(q)) + 1;
}

/** A dimension times an integer factor (an up-sampling Resize or transposed conv), a symbol kept as an expression. */
export function scaledDim(d: Dim, factor: number): Dim {
  if (typeof d === 'number') return d * factor;
  if (factor === 1) return d;
  // k·(X) scaled again is (k·factor)·(X).
  const scaled = /^(\d+)·(.*)$/.exec(d);
  return scaled && oneGroup(scaled[2]) ? `${Number(scaled[1]) * factor}·${scaled[2]}` : `${factor}·${operand(d)}`;
}
