// Blame and bit plans on ResNet-8 with CIFAR-10 images calibration did not see: at W2 (activations float) the costly
// layers are the 2-bit middle convolutions, never the 8-bit first and last layers; the plan fits its budget and, at
// the size of uniform W3, beats uniform W3; quantize applies a plan's bits layer by layer.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBitPlan, writeBitPlan } from '../../src/api/bit-plan.js';
import { evaluate } from '../../src/api/evaluate.js';
import { validate, type ValidateReport } from '../../src/api/validate.js';
import { quantize } from '../../src/index.js';
import { writeFq } from '../../src/quant/fq-file.js';
import { chooseBits, type LayerChoices } from '../../src/quant/bit-plan.js';
import { mulberry32 } from '../../src/random.js';
import { data, hasShared, model } from '../helpers/shared.js';

const ONNX = model('resnet8-cifar10/float.onnx');
const CALIB = data('cifar10/calib-1024');
/** Images calibration never reads (it takes the first 256). */
const HELD_OUT = { data: CALIB, offset: 512, limit: 64 };
/** Packed weight bytes of uniform W3 on ResNet-8: the first and last layer (1072 params) at 8 bits, 76288 at 3. */
const UNIFORM_W3_BYTES = 1072 + (76288 * 3) / 8;

describe('chooseBits', () => {
  it('finds the least-loss choice that fits, as an exhaustive search does', () => {
    const random = mulberry32(7);
    const layers: LayerChoices[] = Array.from({ length: 6 }, (_, k) => {
      const params = 100 + Math.floor(random() * 900);
      return { layer: `L${k}`, choices: [8, 4, 3, 2].map((bits) => ({ bits, bytes: (params * bits) / 8, loss: random() * (9 - bits) })) };
    });
    const budget = 2500;
    let best = { loss: Infinity, bits: [] as number[] };
    for (let code = 0; code < 4 ** layers.length; code++) {
      const picks = layers.map((l, k) => l.choices[Math.floor(code / 4 ** k) % 4]);
      const bytes = picks.reduce((s, c) => s + c.bytes, 0);
      const loss = picks.reduce((s, c) => s + c.loss, 0);
      if (bytes <= budget && loss < best.loss) best = { loss, bits: picks.map((c) => c.bits) };
    }
    const chosen = chooseBits(layers, budget);
    expect(layers.map((l) => chosen.get(l.layer))).toEqual(best.bits);
  });

  it('says how many KiB the fewest bits need when nothing fits', () => {
    expect(() => chooseBits([{ layer: 'a', choices: [{ bits: 2, bytes: 4096, loss: 1 }] }], 1024)).toThrow(/even the fewest bits need 4\.00 KiB.*--budget-kb/);
  });
});

describe.skipIf(!hasShared)('blame and bit plan on ResNet-8 W2A32', () => {
  let work: string;
  let w2: ValidateReport;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'flexq-blame-'));
    const q = await quantize(ONNX, { calib: CALIB, limit: 256, wbits: 2, abits: 32 });
    writeFq(join(work, 'w2.fq'), q);
    w2 = await validate(ONNX, q, { ...HELD_OUT, executors: ['float'], blame: true, budgetKb: UNIFORM_W3_BYTES / 1024 });
  }, 240_000);

  afterAll(() => work && rmSync(work, { recursive: true, force: true }));

  it('ranks the 2-bit middle convolutions costliest and the 8-bit edge layers cheapest', async () => {
    const b = w2.blame!;
    expect(b.metric).toBe('top1');
    // All layers quantized (the blame's own run) scores what evaluate measures for the .fq on the same images.
    expect(b.float.top1).toBe(w2.floatTop1);
    expect(b.quantized.top1).toBe((await evaluate(join(work, 'w2.fq'), HELD_OUT)).top1);
    expect(b.quantized.top1!).toBeLessThan(b.float.top1! - 0.3);
    const lost = b.layers.map((l) => b.float.top1! - l.alone.top1!);
    expect(lost).toEqual([...lost].sort((x, y) => y - x));
    expect(lost[0]).toBeGreaterThan(0.2);
    expect(b.layers.slice(0, 3).every((l) => l.bits === 2)).toBe(true);
    for (const l of b.layers.filter((l) => l.bits === 8)) expect(Math.abs(b.float.top1! - l.alone.top1!)).toBeLessThanOrEqual(0.02);
  });

  it('plans bits within the budget that beat uniform W3 at the same size, and quantize applies them', async () => {
    const plan = w2.plan!;
    expect(plan.bytes).toBeLessThanOrEqual(UNIFORM_W3_BYTES);
    expect(plan.bytes).toBe(plan.layers.reduce((s, l) => s + Math.ceil((l.params * l.bits) / 8), 0));
    const w3 = await quantize(ONNX, { calib: CALIB, limit: 256, wbits: 3, abits: 32 });
    writeFq(join(work, 'w3.fq'), w3);
    const uniform = (await evaluate(join(work, 'w3.fq'), HELD_OUT)).top1;
    expect(plan.measured.top1!).toBeGreaterThan(uniform + 0.03);

    const planFile = join(work, 'PLAN.json');
    writeBitPlan(planFile, ONNX, plan);
    const bits = readBitPlan(planFile);
    const planned = await quantize(ONNX, { calib: CALIB, limit: 256, abits: 32, layerBits: bits });
    for (const l of plan.layers) expect(planned.weights.get(w3.graph.nodes.find((n) => n.name === l.layer)!.inputs[1])!.bits).toBe(l.bits);
    writeFq(join(work, 'planned.fq'), planned);
    // What the plan measured is what the quantized plan gets (same RTN weights, float activations).
    expect((await evaluate(join(work, 'planned.fq'), HELD_OUT)).top1).toBe(plan.measured.top1);
  });

  it('refuses a plan naming a layer the model lacks, and never overwrites a file that is not a plan', async () => {
    const bad = join(work, 'bad.json');
    writeFileSync(bad, JSON.stringify({ format: 'flexq-bit-plan/1', model: ONNX, budgetKb: 1, bits: { Conv_99: 4 } }));
    await expect(quantize(ONNX, { calib: CALIB, limit: 8, abits: 32, layerBits: readBitPlan(bad) })).rejects.toThrow(/layer 'Conv_99' is not a weighted layer of .*float\.onnx \(its weighted layers: Conv_0/);
    const notes = join(work, 'notes.json');
    writeFileSync(notes, '{"mine": true}');
    expect(() => writeBitPlan(notes, ONNX, w2.plan!)).toThrow(/notes\.json: exists and is not a flexq bit plan/);
  });
});
