export interface Accuracy {
  readonly count: number;
  readonly top1: number;
  readonly top5: number;
}

/** Rank of the label among a sample's scores: how many classes score strictly higher (ties favour the label). */
function rankOfLabel(scores: Float32Array, label: number): number {
  let higher = 0;
  for (let c = 0; c < scores.length; c++) if (scores[c] > scores[label]) higher++;
  return higher;
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
