import { fail } from '../errors.js';
import type { Dim } from '../ir/shape.js';

/** `--input-shape 1,3,48,192` (a symbol such as N keeps a dim dynamic). */
export function parseInputShape(text: string | undefined): Dim[] | undefined {
  if (text === undefined) return undefined;
  const dims = text.split(',').map((d) => d.trim());
  if (dims.some((d) => d === '' || (/^\d+$/.test(d) ? Number(d) < 1 : !/^[A-Za-z_]\w*$/.test(d))))
    fail('BAD_ARGUMENT', `--input-shape '${text}': expected comma-separated positive sizes or names, e.g. 1,3,48,192`);
  return dims.map((d) => (/^\d+$/.test(d) ? Number(d) : d));
}

/** A non-negative integer option such as --limit or --batch. */
export function parseCount(name: string, min = 0): (text: string) => number {
  return (text) => {
    const v = Number(text);
    if (!Number.isInteger(v) || v < min) fail('BAD_ARGUMENT', `${name} '${text}': expected an integer ≥ ${min}`);
    return v;
  };
}
