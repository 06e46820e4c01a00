export interface Accuracy {
  readonly count: number;
  readonly top1: number;
  readonly top5: number;
}

/**
 * Rank of the label among a sample's scores, ties broken by class index as argmax breaks them: int8 outputs tie
 * often, and a tie must not count as a hit (strict argmax, the same rule as argmaxRows).
 */
function rankOfLabel(scores: Float32Array, label: number): number {
  let ahead = 0;
  for (let c = 0; c < scores.length; c++) if (scores[c] > scores[label] || (scores[c] === scores[label] && c < label)) ahead++;
  return ahead;
}

/** Top-1 and top-5 accuracy of per-sample scores against integer labels. */
export function topKAccuracy(scores: readonly Float32Array[], labels: readonly number[]): Accuracy {
  let top1 = 0;
  let top5 = 0;
  scores.forEach((s, i) => {
    const r = rankOfLabel(s, labels[i]);
    if (r < 1) top1++;
    if (r < 5) top5++;
  });
  const n = Math.max(scores.length, 1);
  return { count: scores.length, top1: top1 / n, top5: top5 / n };
}

/** Running agreement between a reference tensor and an approximation of it, over many batches. */
export interface AgreementStats {
  readonly sqnrDb: number;
  readonly cosine: number;
  readonly maxAbsError: number;
  readonly count: number;
}

export class AgreementAccumulator {
  private signal = 0;
  private noise = 0;
  private dot = 0;
  private other = 0;
  private maxErr = 0;
  private n = 0;

  add(reference: Float32Array, approx: Float32Array): void {
    for (let i = 0; i < reference.length; i++) {
      const r = reference[i];
      const a = approx[i];
      const e = r - a;
      this.signal += r * r;
      this.noise += e * e;
      this.dot += r * a;
      this.other += a * a;
      if (Math.abs(e) > this.maxErr) this.maxErr = Math.abs(e);
    }
    this.n += reference.length;
  }

  /** SQNR = 10·log10(Σ ref² / Σ (ref − approx)²) (∞ when equal), cosine of the two as vectors, max |ref − approx|. */
  stats(): AgreementStats {
    const sqnrDb = this.noise === 0 ? Infinity : 10 * Math.log10(this.signal / this.noise);
    const cosine = this.signal === 0 || this.other === 0 ? (this.signal === this.other ? 1 : 0) : this.dot / Math.sqrt(this.signal * this.other);
    return { sqnrDb, cosine, maxAbsError: this.maxErr, count: this.n };
  }
}

/** Index of the largest score of each of `count` rows. */
export function argmaxRows(scores: Float32Array, count: number): Int32Array {
  const classes = scores.length / count;
  return Int32Array.from({ length: count }, (_, i) => {
    let best = 0;
    for (let c = 1; c < classes; c++) if (scores[i * classes + c] > scores[i * classes + best]) best = c;
    return best;
  });
}

/** Bins of an error histogram, in steps (LSB) of the approximation's grid: [−range, range], the ends clamped. */
export const ERROR_HISTOGRAM = { rangeLsb: 8, bins: 32 } as const;

/**
 * Counts of (approx − reference) / lsb per bin: in steps of the integer grid, so every layer shares one axis
 * (rounding alone stays within ±0.5, anything wider is error carried from earlier layers).
 */
export class ErrorHistogram {
  readonly counts = new Array<number>(ERROR_HISTOGRAM.bins).fill(0);

  constructor(private readonly lsb: number) {}

  add(reference: Float32Array, approx: Float32Array): void {
    const { rangeLsb, bins } = ERROR_HISTOGRAM;
    const perBin = bins / (2 * rangeLsb);
    for (let i = 0; i < reference.length; i++) {
      const bin = Math.floor(((approx[i] - reference[i]) / this.lsb + rangeLsb) * perBin);
      this.counts[Math.max(0, Math.min(bins - 1, bin))]++;
    }
  }
}
