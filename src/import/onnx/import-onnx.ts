import pkg from 'onnx-proto';
import { fail } from '../../errors.js';
import { toNumbers } from '../../ir/dtype.js';
import { GraphBuilder } from '../../ir/build.js';
import type { AttrValue, Graph, Value } from '../../ir/graph.js';
import { checkFinite, shapeProblem } from '../../ir/limits.js';
import type { Dim } from '../../ir/shape.js';
import type { ImportOptions } from '../options.js';
import { ONNX_RULES, attributeValue, type RuleContext } from './op-rules.js';
import { decodeTensor, dtypeOf, int64 } from './tensor-proto.js';

const { onnx } = pkg;
const MIN_OPSET = 6;
const MAX_OPSET = 21;

function decodeModel(bytes: Uint8Array, source: string): pkg.onnx.IModelProto {
  let model;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (e) {
    return fail('MODEL_PARSE', `${source}: not a readable ONNX model (${(e as Error).message}); the file is truncated or is not ONNX protobuf`);
  }
  if (!model.graph || int64(model.irVersion as number) <= 0 || (model.graph.node ?? []).length === 0)
    return fail('MODEL_PARSE', `${source}: not an ONNX model (no ir_version or no graph nodes were found); expected an .onnx file saved by onnx.save or a converter`);
  return model;
}

function opsetOf(model: pkg.onnx.IModelProto, source: string): number {
  const entry = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  const v = int64(entry?.version as number);
  if (!entry || v < MIN_OPSET || v > MAX_OPSET)
    return fail('MODEL_INVALID', `${source}: default-domain opset ${entry ? v : 'missing'}; flexq imports opsets ${MIN_OPSET}–${MAX_OPSET}: convert the model (onnx.version_converter)`);
  return v;
}

function inputValue(vi: pkg.onnx.IValueInfoProto, source: string, override?: readonly Dim[]): Value {
  const tt = vi.type?.tensorType;
  if (!tt) return fail('MODEL_INVALID', `${source}: graph input '${vi.name}' is not a tensor`);
  const dims: Dim[] = (tt.shape?.dim ?? []).map((d, i) => (d.dimParam ? d.dimParam : d.dimValue !== undefined && d.dimValue !== null ? int64(d.dimValue as number) : `${vi.name}:${i}`));
  const problem = shapeProblem(dims, { minDim: 1 });
  if (problem)
    fail('MODEL_INVALID', `${source}: graph input '${vi.name}': ${problem}; fix the input's shape in the model (dynamic dims as names, e.g. 'N'), or give concrete dims with --input-shape`);
  if (override) {
    if (override.length !== dims.length)
      fail('BAD_ARGUMENT', `${source}: --input-shape has ${override.length} dims but input '${vi.name}' has rank ${dims.length} [${dims}]`);
    dims.forEach((d, i) => {
      if (typeof d === 'number' && d !== override[i])
        fail('BAD_ARGUMENT', `${source}: --input-shape gives ${override[i]} for dim ${i} of input '${vi.name}', which the model fixes at ${d}`);
    });
    return { name: vi.name!, dtype: dtypeOf(tt.elemType ?? 0, `${source}: input '${vi.name}'`), shape: [...override] };
  }
  return { name: vi.name!, dtype: dtypeOf(tt.elemType ?? 0, `${source}: input '${vi.name}'`), shape: dims };
}

/** Lines for op types in an unsupported-op refusal (the last one summarizes the rest), so it stays ≤ 5 lines. */
const REFUSAL_GROUPS = 3;
const NAMES_PER_GROUP = 3;

/** Tensors computable from initializers and Constant nodes alone (ONNX lists nodes in topological order). */
function constantTensors(g: pkg.onnx.IGraphProto): Set<string> {
  const known = new Set<string>((g.initializer ?? []).map((t) => t.name!));
  for (const n of g.node ?? []) {
    if ((n.input ?? []).every((i) => i === '' || known.has(i))) for (const o of n.output ?? []) known.add(o);
  }
  return known;
}

/**
 * Refuses a model with untranslatable nodes, grouped by op type with counts and the first names, e.g.
 * `ConstantOfShape ×836 ('a', 'b', 'c', …)`, saying which groups only read constants (foldable once flexq evaluates the op).
 */
function reportUnsupported(source: string, g: pkg.onnx.IGraphProto): void {
  const nodes = g.node ?? [];
  const groups = new Map<string, { names: string[]; constant: number }>();
  const constants = constantTensors(g);
  nodes.forEach((n, i) => {
    if (n.opType === 'Constant' || ONNX_RULES.has(n.opType!)) return;
    const group = groups.get(n.opType!) ?? { names: [], constant: 0 };
    group.names.push(n.name || `#${i}`);
    if ((n.input ?? []).every((x) => x === '' || constants.has(x))) group.constant++;
    groups.set(n.opType!, group);
  });
  if (groups.size === 0) return;
  const sorted = [...groups].sort(([a, x], [b, y]) => y.names.length - x.names.length || a.localeCompare(b));
  const total = sorted.reduce((s, [, x]) => s + x.names.length, 0);
  const shown = sorted.length <= REFUSAL_GROUPS ? sorted : sorted.slice(0, REFUSAL_GROUPS - 1);
  const lines = shown.map(([op, { names, constant }]) => {
    const first = names.slice(0, NAMES_PER_GROUP).map((x) => `'${x}'`).join(', ') + (names.length > NAMES_PER_GROUP ? ', …' : '');
    const foldable = constant === 0 ? '' : `; ${constant} of ${names.length} read only constants: foldable once flexq evaluates ${op}`;
    // A lone node reads as before (`'name' (Op)`); groups get a count and their first names.
    return `  ${names.length === 1 ? `${first} (${op})` : `${op} ×${names.length} (${first})`}${foldable}`;
  });
  const rest = sorted.slice(shown.length);
  if (rest.length > 0) lines.push(`  and ${rest.length} more op type(s): ${rest.map(([op, x]) => `${op} ×${x.names.length}`).join(', ')}`);
  fail('UNSUPPORTED_OP', [
    `${source}: ${total} node(s) use ${sorted.length} operator(s) flexq does not support:`,
    ...lines,
    `Supported: Constant, ${[...ONNX_RULES.keys()].sort().join(', ')}; convert or replace the other ops before import (e.g. onnxsim folds constant subgraphs).`,
  ].join('\n'));
}

/** The checks on the graph's interface and node wiring that translation relies on, each naming what to fix. */
function checkGraphInterface(g: pkg.onnx.IGraphProto, source: string): void {
  const outputs = g.output ?? [];
  if (outputs.length === 0)
    fail('MODEL_INVALID', `${source}: the graph declares no outputs, so there is nothing to compute or quantize; export the model with its outputs (graph.output)`);
  const unnamed = [...(g.input ?? []), ...outputs].findIndex((v) => !v.name);
  if (unnamed >= 0) fail('MODEL_INVALID', `${source}: a graph input or output has no name; the file is damaged: re-export the model`);
  (g.node ?? []).forEach((n, i) => {
    if (!(n.output ?? []).some((o) => o !== ''))
      fail('MODEL_INVALID', `${source}: node '${n.name || `${n.opType}_${i}`}' (${n.opType}) has no outputs; the file is damaged: re-export the model`);
  });
}

/** Imports an ONNX model (opsets 6–21) into flexq's IR, translating each node through ONNX_RULES. */
export function importOnnx(bytes: Uint8Array, source: string, options: ImportOptions = {}): Graph {
  const model = decodeModel(bytes, source);
  const opset = opsetOf(model, source);
  const g = model.graph!;
  const nodes = g.node ?? [];
  reportUnsupported(source, g);
  checkGraphInterface(g, source);
  // Folding while building: a rule that needs a constant operand (pads, scales, axes) then also accepts one computed from constants.
  const builder = new GraphBuilder(source, g.name || source, { foldConstants: true });
  const read = new Set([...nodes.flatMap((n) => n.input ?? []), ...(g.output ?? []).map((o) => o.name!)]);

  for (const t of g.initializer ?? []) builder.addConstant(decodeTensor(t, t.name!, source));
  const realInputs = (g.input ?? []).filter((vi) => !builder.has(vi.name!));
  if (realInputs.length === 0)
    fail('MODEL_INVALID', `${source}: the graph has no data inputs (none is declared, or each is an initializer), so there is nothing to feed it or calibrate on; export the model with its data input`);
  if (options.inputShape && realInputs.length !== 1)
    fail('BAD_ARGUMENT', `${source}: --input-shape needs a model with one input; this one has ${realInputs.length}`);
  for (const vi of realInputs) builder.addInput(inputValue(vi, source, options.inputShape));

  nodes.forEach((proto, index) => {
    const name = proto.name || `${proto.opType}_${index}`;
    const where = `${source}: node '${name}' (${proto.opType})`;
    const attrs = new Map<string, AttrValue | undefined>((proto.attribute ?? []).map((a) => [a.name!, attributeValue(a)]));
    if (proto.opType === 'Constant') {
      const t = (proto.attribute ?? []).find((a) => a.name === 'value');
      if (builder.has(proto.output![0]))
        fail('MODEL_INVALID', `${where} writes '${proto.output![0]}', which an earlier node, input or initializer already provides; re-export the model`);
      if (t?.t) builder.addConstant(decodeTensor(t.t, proto.output![0], where));
      else {
        const v = attrs.get('value_float') ?? attrs.get('value_floats') ?? attrs.get('value_int') ?? attrs.get('value_ints');
        if (v === undefined) fail('UNSUPPORTED_ATTR', `${where}: only tensor, float(s) and int(s) constants are supported`);
        const values = Array.isArray(v) ? (v as number[]) : [v as number];
        const isInt = attrs.has('value_int') || attrs.has('value_ints');
        if (typeof v === 'string' || values.some((x) => typeof x !== 'number' || (isInt && !Number.isSafeInteger(x))))
          fail('MODEL_INVALID', `${where}: the constant's value ${JSON.stringify(v).slice(0, 80)} is not a list of ${isInt ? 'integers' : 'numbers'}`);
        if (!isInt) checkFinite(proto.output![0], 'float32', Float32Array.from(values), where);
        builder.addConstant({
          name: proto.output![0],
          dtype: isInt ? 'int64' : 'float32',
          shape: Array.isArray(v) ? [values.length] : [],
          data: isInt ? BigInt64Array.from(values, BigInt) : Float32Array.from(values),
        });
      }
      return;
    }
    if (proto.domain && proto.domain !== 'ai.onnx')
      fail('UNSUPPORTED_OP', `${where}: operator domain '${proto.domain}' is not supported; flexq imports the default ONNX domain`);
    const ctx: RuleContext = {
      proto,
      name,
      opset,
      where,
      attr: (key) => attrs.get(key),
      shapeOf: (input) => builder.value(input)?.shape ?? fail('MISSING_TENSOR', `${where} reads tensor '${input}', which nothing earlier provides`),
      constInput(i) {
        const input = proto.input?.[i];
        if (!input) return undefined;
        const v = builder.value(input);
        if (!v?.data) return fail('UNSUPPORTED_ATTR', `${where}: input ${i} ('${input}') must be a constant (an initializer or Constant)`);
        return toNumbers(v.data);
      },
      addInt64Constant(constName, values) {
        builder.addConstant({ name: constName, dtype: 'int64', shape: [values.length], data: BigInt64Array.from(values, (x) => BigInt(x)) });
        return constName;
      },
      addFloatConstant(constName, values, shape) {
        builder.addConstant({ name: constName, dtype: 'float32', shape: [...shape], data: Float32Array.from(values) });
        return constName;
      },
      isRead: (tensor) => read.has(tensor),
    };
    for (const n of ONNX_RULES.get(proto.opType!)!(ctx)) builder.addNode(n);
  });
  return builder.build((g.output ?? []).map((o) => o.name!));
}
