import type { Dim } from '../ir/shape.js';

export interface ImportOptions {
  /**
   * Concrete dims for the (single) graph input, e.g. [1, 3, 48, 192] from `--input-shape`.
   * Symbolic dims of the model are replaced by these; a fixed dim that disagrees is an error.
   */
  readonly inputShape?: readonly Dim[];
}
