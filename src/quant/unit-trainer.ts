// One reconstruction unit's training step: forward through the unit with the current rounding and activation
// steps (fake-quantizing what each node reads, QDrop-mixing where the setting asks), the loss against the float
// model's output, backward to every weight and learned step, and one Adam update of all of them.

import type { TensorBackend, UnitProgram, UnitQuantizer } from '../backend/backend.js';
import { positions, reconstructionLoss } from '../backend/typed-array-ops.js';
import type { Graph, Node } from '../ir/graph.js';
import { sizeOf } from '../ir/shape.js';
import type { Random } from '../random.js';
import { Adam } from './adam.js';
import type { ReconstructionUnit } from './blocks.js';
import { fakeQuantize, fakeQuantizeBackward, qdropMask, qdropMix, type FakeQuantTape, type LearnedStep } from './lsq.js';
import { backwardNode, forwardNode, unitProgram, unitStep } from './node-autodiff.js';
import type { WeightQuantizer } from './weight-quantizer.js';
import type { FloatTensor } from '../tensor.js';

export type Setting = 'brecq' | 'qdrop';

/** One batch of a unit's data: its input from the quantized part of the network, the float model's input and output. */
export interface UnitBatch {
  readonly input: FloatTensor;
  /** The float model's input: QDrop mixes it in; the BRECQ setting never reads it. */
  readonly floatInput?: FloatTensor;
  readonly target: FloatTensor;
}

/** What a fed value went through on its way into a node, for the backward pass. */
interface FeedTape {
  fq?: FakeQuantTape;
  dropped?: Uint8Array;
}

type Feed = (v: string, x: FloatTensor, float?: FloatTensor) => FloatTensor;
type Unfeed = (v: string, dx: Float32Array) => Float32Array;

interface StepResult {
  readonly loss: number;
  readonly weightGrads: ReadonlyMap<Node, Float32Array>;
}

export class UnitTrainer {
  private readonly adam: Adam;
  private readonly produced: ReadonlySet<string>;
  private readonly learnedSteps: LearnedStep[];
  /** The unit compiled whole, per batch size; undefined where it cannot be (see wholeUnitStep). */
  private readonly programs = new Map<number, UnitProgram | undefined>();

  /**
   * `steps` holds every activation's quantizer (absent: float); `learned` names the values whose steps this unit
   * trains (the others are applied as they are).
   */
  constructor(
    private readonly graph: Graph,
    private readonly backend: TensorBackend,
    private readonly unit: ReconstructionUnit,
    private readonly quantizers: ReadonlyMap<Node, WeightQuantizer>,
    private readonly steps: ReadonlyMap<string, LearnedStep>,
    private readonly learned: readonly string[],
    private readonly setting: Setting,
    lr: number,
    /** The factor of `lr` at each iteration (a schedule); constant by default. */
    private readonly lrFactor: (iteration: number) => number = () => 1,
  ) {
    this.produced = new Set(unit.nodes.map((n) => n.outputs[0]));
    this.learnedSteps = [...new Set(learned.map((v) => steps.get(v)!))];
    const weightParams = [...quantizers.values()].flatMap((q) => q.params.map((p) => ({ p, scale: q.rateScale ?? 1 })));
    this.adam = new Adam(
      [...weightParams.map((w) => w.p), ...this.learnedSteps.map((s) => s.logStep)],
      lr,
      [...weightParams.map((w) => w.scale), ...this.learnedSteps.map(() => 1)],
    );
  }

  /** One iteration; returns the reconstruction loss before the update. */
  async step(batch: UnitBatch, iteration: number, random: Random): Promise<number> {
    const tapes = new Map<string, FeedTape>();
    const feed = (v: string, x: FloatTensor, float?: FloatTensor): FloatTensor => {
      const step = this.steps.get(v);
      let y = x.data;
      const tape: FeedTape = {};
      if (step) ({ y, tape: tape.fq } = fakeQuantize(x.data, step));
      // QDrop mixes where something was quantized: at a quantizer, and at the unit's input (quantized weights upstream).
      if (this.setting === 'qdrop' && (step || float)) {
        const mixed = qdropMix(y, float?.data ?? x.data, random);
        y = mixed.y;
        tape.dropped = mixed.dropped;
      }
      tapes.set(v, tape);
      return { shape: x.shape, data: y };
    };
    const weights = new Map([...this.quantizers].map(([n, q]) => [n, q.weight()]));
    const stepGrads = new Map<LearnedStep, number>();
    const addStepGradient = (step: LearnedStep, g: number) => stepGrads.set(step, (stepGrads.get(step) ?? 0) + g);
    /** ∂L/∂(what a node was fed) back to ∂L/∂(the value): through QDrop's mask and the fake quantizer (LSQ's step gradient). */
    const unfeed = (v: string, dx: Float32Array): Float32Array => {
      const tape = tapes.get(v)!;
      let d = tape.dropped ? dx.map((g, i) => (tape.dropped![i] ? 0 : g)) : dx;
      if (tape.fq) {
        const step = this.steps.get(v)!;
        const back = fakeQuantizeBackward(d, tape.fq, step);
        addStepGradient(step, back.dLogStep);
        d = back.dx;
      }
      return d;
    };
    const input = feed(this.unit.input, batch.input, batch.floatInput);
    const { loss, weightGrads } =
      (await this.wholeUnitStep(input, weights, batch.target, unfeed, random, addStepGradient)) ??
      (await this.nodeByNodeStep(input, weights, batch.target, feed, unfeed));
    this.adam.step([
      ...[...this.quantizers].flatMap(([n, q]) => q.gradients(weightGrads.get(n)!, iteration)),
      ...this.learnedSteps.map((s) => Float64Array.of(stepGrads.get(s) ?? 0)),
    ], this.lrFactor(iteration));
    return loss;
  }

  /**
   * The whole unit in one backend call, when the backend compiles units: the unit's input is fed (and unfed) here
   * as for any unit; the activations quantized inside it are fake-quantized in the backend's graph, with QDrop's
   * coins drawn here in the order the node-by-node path draws them.
   */
  private async wholeUnitStep(
    input: FloatTensor,
    weights: ReadonlyMap<Node, Float32Array>,
    target: FloatTensor,
    unfeed: Unfeed,
    random: Random,
    addStepGradient: (step: LearnedStep, g: number) => void,
  ): Promise<StepResult | undefined> {
    const { graph, unit } = this;
    if (!this.backend.unitStep) return undefined;
    const batch = input.shape[0];
    if (!this.programs.has(batch)) this.programs.set(batch, unitProgram(graph, unit.nodes, unit.input, unit.output, batch, this.insideQuantizers()));
    const program = this.programs.get(batch);
    if (!program) return undefined;
    const steps = program.quantizers.map((q) => this.steps.get(q.value)!);
    const masks = program.quantizers.map((q) => (q.qdrop ? qdropMask(sizeOf(program.shapes[q.value]), random) : undefined));
    const needInput = this.learned.includes(unit.input);
    const r = await unitStep(this.backend, graph, program, unit.nodes, input, weights, { steps: steps.map((s) => s.step), masks }, target, positions(target), needInput);
    if (needInput) unfeed(unit.input, r.dx!);
    steps.forEach((s, k) => addStepGradient(s, r.dLogSteps[k]));
    return { loss: r.loss, weightGrads: r.weightGrads };
  }

  /** The values made and fake-quantized inside the unit, in the order its nodes first read them. */
  private insideQuantizers(): UnitQuantizer[] {
    const values = [...new Set(this.unit.nodes.flatMap((n) => n.inputs))].filter((v) => this.produced.has(v) && this.steps.has(v));
    return values.map((value) => {
      const { zeroPoint, qmin, qmax } = this.steps.get(value)!.grid;
      return { value, lo: qmin - zeroPoint, hi: qmax - zeroPoint, qdrop: this.setting === 'qdrop' };
    });
  }

  /** Any unit: node by node forward (keeping what backward needs), the loss, and backward last node first. */
  private async nodeByNodeStep(input: FloatTensor, weights: ReadonlyMap<Node, Float32Array>, target: FloatTensor, feed: Feed, unfeed: Unfeed): Promise<StepResult> {
    const { graph, backend, unit, produced } = this;
    const values = new Map<string, FloatTensor>();
    const fed = new Map<string, FloatTensor>([[unit.input, input]]);
    for (const n of unit.nodes) {
      const xs = n.inputs.filter((v) => fed.has(v) || produced.has(v)).map((v) => {
        if (!fed.has(v)) fed.set(v, feed(v, values.get(v)!));
        return fed.get(v)!;
      });
      values.set(n.outputs[0], await forwardNode(backend, graph, n, xs, weights.get(n)));
    }
    const { loss, dy } = reconstructionLoss(values.get(unit.output)!, target);
    // Gradient arrays may be shared (Add hands one ∂y to both inputs): never write into one.
    const grads = new Map<string, Float32Array>([[unit.output, dy.data]]);
    const weightGrads = new Map<Node, Float32Array>();
    for (const n of [...unit.nodes].reverse()) {
      const ins = n.inputs.filter((v) => fed.has(v));
      const need = ins.map((v) => produced.has(v) || this.learned.includes(v));
      const y = values.get(n.outputs[0])!;
      const { dxs, dw } = await backwardNode(backend, graph, n, ins.map((v) => fed.get(v)!), y, { shape: y.shape, data: grads.get(n.outputs[0])! }, weights.get(n), need);
      if (dw) weightGrads.set(n, dw);
      ins.forEach((v, j) => {
        if (!dxs[j]) return;
        const d = unfeed(v, dxs[j].data);
        const acc = grads.get(v);
        grads.set(v, acc ? acc.map((a, i) => a + d[i]) : d);
      });
    }
    return { loss, weightGrads };
  }
}
