/**
 * Adam (Kingma & Ba) over a fixed list of parameter arrays, with bias correction; the state is kept per array
 * position, so one optimizer serves one parameter set. Float64 state keeps runs bit-reproducible across backends.
 */
export class Adam {
  private readonly m: Float64Array[];
  private readonly v: Float64Array[];
  private t = 0;

  constructor(
    readonly params: readonly Float64Array[],
    private readonly lr: number,
    /** The factor of `lr` for each parameter array. */
    private readonly rateScales: readonly number[] = params.map(() => 1),
    private readonly beta1 = 0.9,
    private readonly beta2 = 0.999,
    private readonly eps = 1e-8,
  ) {
    this.m = params.map((p) => new Float64Array(p.length));
    this.v = params.map((p) => new Float64Array(p.length));
  }

  /**
   * One update with the gradients of every parameter array, in the order given to the constructor; `lrScale`
   * multiplies the learning rate of this step (a schedule's factor).
   */
  step(grads: readonly Float64Array[], lrScale = 1): void {
    this.t++;
    const c1 = 1 - this.beta1 ** this.t;
    const c2 = 1 - this.beta2 ** this.t;
    const { beta1, beta2, eps } = this;
    this.params.forEach((p, k) => {
      const lr = this.lr * lrScale * this.rateScales[k];
      const g = grads[k];
      const m = this.m[k];
      const v = this.v[k];
      for (let i = 0; i < p.length; i++) {
        m[i] = beta1 * m[i] + (1 - beta1) * g[i];
        v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i];
        p[i] -= (lr * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + eps);
      }
    });
  }
}
