// What a quantized model's outputs must keep for the task, when there are no labels to score: the mask of a
// segmenter, the top detection of a detector. Each accumulator compares float outputs with an executor's, batch by batch.

/** The tasks `validate --task` knows: classification scores top-1; the others compare outputs with the float model. */
export const TASKS = ['classification', 'segmentation', 'detection'] as const;
export type Task = (typeof TASKS)[number];

/** A float mask covering at least this fraction of the image counts as large (small masks swing the mean IoU). */
export const LARGE_MASK_FRACTION = 0.05;

export interface SegmentationStats {
  /** Mean over samples of |A ∩ B| / |A ∪ B| for the masks p > 0.5 (1 when both are empty). */
  readonly maskIou: number;
  /** The same over all pixels of all samples at once. */
  readonly pooledMaskIou: number;
  /** Mean IoU over the samples whose float mask covers at least LARGE_MASK_FRACTION of the image (0 when none does). */
  readonly largeMaskIou: number;
  readonly largeMaskCount: number;
  /** Samples whose float mask is empty, and how many of them the executor's mask leaves empty too (IoU 1; else 0). */
  readonly emptyMaskCount: number;
  readonly emptyMaskKept: number;
  readonly count: number;
}

/** Mask IoU at 0.5 of per-pixel probabilities ([N, …] with one probability per element). */
export class MaskIouAccumulator {
  private sumIou = 0;
  private intersection = 0;
  private union = 0;
  private n = 0;
  private sumLargeIou = 0;
  private large = 0;
  private empty = 0;
  private emptyKept = 0;

  add(reference: Float32Array, approx: Float32Array, count: number): void {
    const per = reference.length / count;
    for (let s = 0; s < count; s++) {
      let both = 0;
      let either = 0;
      let area = 0;
      for (let i = s * per; i < (s + 1) * per; i++) {
        const a = reference[i] > 0.5;
        const b = approx[i] > 0.5;
        if (a) area++;
        if (a && b) both++;
        if (a || b) either++;
      }
      const iou = either === 0 ? 1 : both / either;
      this.sumIou += iou;
      this.intersection += both;
      this.union += either;
      this.n++;
      if (area >= LARGE_MASK_FRACTION * per) {
        this.sumLargeIou += iou;
        this.large++;
      }
      if (area === 0) {
        this.empty++;
        if (either === 0) this.emptyKept++;
      }
    }
  }

  stats(): SegmentationStats {
    return {
      maskIou: this.n === 0 ? 0 : this.sumIou / this.n,
      pooledMaskIou: this.union === 0 ? 1 : this.intersection / this.union,
      largeMaskIou: this.large === 0 ? 0 : this.sumLargeIou / this.large,
      largeMaskCount: this.large,
      emptyMaskCount: this.empty,
      emptyMaskKept: this.emptyKept,
      count: this.n,
    };
  }
}

export interface DetectionStats {
  /** Fraction of samples whose highest-scoring anchor is the float model's. */
  readonly topScoreAgreement: number;
  /** Mean IoU of the box each model regresses at the float model's top anchor (first four values: cx, cy, w, h). */
  readonly topBoxIou: number;
  /** Mean |float − quantized| of the top anchor's score. */
  readonly topScoreError: number;
  readonly count: number;
}

/** Which outputs of a detector hold the scores ([N, anchors, 1]) and the boxes ([N, anchors, ≥ 4]). */
export interface DetectorOutputs {
  readonly scores: string;
  readonly boxes: string;
}

/** IoU of two boxes given as centre and size. */
export function centreBoxIou(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const overlap = (ca: number, sa: number, cb: number, sb: number) => Math.max(0, Math.min(ca + sa / 2, cb + sb / 2) - Math.max(ca - sa / 2, cb - sb / 2));
  const inter = overlap(a[0], Math.abs(a[2]), b[0], Math.abs(b[2])) * overlap(a[1], Math.abs(a[3]), b[1], Math.abs(b[3]));
  const union = Math.abs(a[2] * a[3]) + Math.abs(b[2] * b[3]) - inter;
  return union <= 0 ? (inter === 0 ? 1 : 0) : inter / union;
}

export class DetectionAccumulator {
  private agree = 0;
  private sumIou = 0;
  private sumScoreError = 0;
  private n = 0;

  /** Scores [count, anchors] and boxes [count, anchors, boxSize] of the float model (ref) and an executor. */
  add(refScores: Float32Array, scores: Float32Array, refBoxes: Float32Array, boxes: Float32Array, count: number): void {
    const anchors = refScores.length / count;
    const boxSize = refBoxes.length / count / anchors;
    for (let s = 0; s < count; s++) {
      const top = (x: Float32Array) => {
        let best = 0;
        for (let a = 1; a < anchors; a++) if (x[s * anchors + a] > x[s * anchors + best]) best = a;
        return best;
      };
      const refTop = top(refScores);
      if (top(scores) === refTop) this.agree++;
      const at = (s * anchors + refTop) * boxSize;
      this.sumIou += centreBoxIou(refBoxes.subarray(at, at + 4), boxes.subarray(at, at + 4));
      this.sumScoreError += Math.abs(refScores[s * anchors + refTop] - scores[s * anchors + refTop]);
      this.n++;
    }
  }

  stats(): DetectionStats {
    const n = Math.max(this.n, 1);
    return { topScoreAgreement: this.agree / n, topBoxIou: this.sumIou / n, topScoreError: this.sumScoreError / n, count: this.n };
  }
}
