/** What a benchmark returns: one table (rows of cells under named columns), and notes on how it was measured. */
export interface BenchResult {
  readonly title: string;
  readonly columns: readonly string[];
  readonly rows: ReadonlyArray<ReadonlyArray<string | number>>;
  readonly notes?: readonly string[];
  /** Anything else worth keeping in the JSON (machine, versions, raw samples). */
  readonly extra?: Record<string, unknown>;
}

const cell = (v: string | number) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toPrecision(4)) : v);

/** A Markdown table, so it pastes into a closing note as it is. */
export function formatTable(r: BenchResult): string {
  const rows = r.rows.map((row) => row.map(cell));
  const widths = r.columns.map((c, k) => Math.max(c.length, 3, ...rows.map((row) => row[k]?.length ?? 0)));
  const line = (cells: readonly string[]) => `| ${cells.map((c, k) => c.padEnd(widths[k])).join(' | ')} |`;
  return [`## ${r.title}`, '', line(r.columns), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line), '', ...(r.notes ?? [])].join('\n');
}
