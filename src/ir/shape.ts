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

/** Output length of a sliding window (convolution, pooling) along one axis. */
export function windowOutput(input: Dim, kernel: number, stride: number, padBefore: number, padAfter: number, dilation: number, ceil = false): Dim {
  if (typeof input === 'string') return input;
  const span = (kernel - 1) * dilation + 1;
  const q = (input + padBefore + padAfter - span) / stride;
  return (ceil ? Math.ceil(q) : Math.floor(q)) + 1;
}
