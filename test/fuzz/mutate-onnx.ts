// ONNX mutations: byte-level (flips, truncation, int32 overwrites) and field edits through the protobuf structure.
import pkg from 'onnx-proto';
import { flipBits, NASTY_FLOATS, NASTY_INTS, overwriteInt32, truncate, type Rng } from './random.js';

const { onnx } = pkg;
type Model = pkg.onnx.ModelProto;
type Edit = (m: Model, rng: Rng) => string;

const nodesOf = (m: Model) => m.graph!.node ?? [];
const initializersOf = (m: Model) => m.graph!.initializer ?? [];

/** A dim value edit: huge, negative or zero. */
const nastyDim = (rng: Rng): number => rng.pick([0, -1, -7, 2 ** 31 - 1, 2 ** 33, 960000000000, 1e15, 2 ** 28 + 1, 65536]);

const EDITS: readonly Edit[] = [
  function initializerDim(m, rng) {
    const t = rng.pick(initializersOf(m));
    if (!t?.dims?.length) return 'no initializer dims';
    const k = rng.int(t.dims.length);
    t.dims[k] = nastyDim(rng);
    return `initializer '${t.name}' dim ${k} := ${t.dims[k]}`;
  },
  function inputDim(m, rng) {
    const vi = rng.pick(m.graph!.input ?? []);
    const dims = vi?.type?.tensorType?.shape?.dim;
    if (!dims?.length) return 'no input dims';
    const k = rng.int(dims.length);
    dims[k] = rng.chance(0.2) ? { dimParam: '' } : { dimValue: nastyDim(rng) };
    return `input '${vi.name}' dim ${k} := ${JSON.stringify(dims[k])}`;
  },
  function inputRank(m, rng) {
    const shape = rng.pick(m.graph!.input ?? [])?.type?.tensorType?.shape;
    if (!shape?.dim) return 'no input shape';
    if (rng.chance(0.5)) shape.dim.pop();
    else shape.dim.push({ dimValue: rng.pick([1, 3, 0]) });
    return `input rank := ${shape.dim.length}`;
  },
  function attributeInts(m, rng) {
    const n = rng.pick(nodesOf(m).filter((x) => (x.attribute ?? []).length > 0));
    if (!n) return 'no attributes';
    const a = rng.pick(n.attribute!);
    if (a.ints && a.ints.length > 0 && rng.chance(0.8)) {
      const k = rng.int(a.ints.length);
      a.ints[k] = rng.pick(NASTY_INTS);
      if (rng.chance(0.2)) a.ints.pop();
      return `node '${n.name}' ${a.name}[${k}] := ${a.ints[k]} (len ${a.ints.length})`;
    }
    a.i = rng.pick(NASTY_INTS);
    a.f = rng.pick(NASTY_FLOATS);
    if (rng.chance(0.3)) a.type = rng.int(16);
    return `node '${n.name}' ${a.name} := i ${a.i}, f ${a.f}, type ${a.type}`;
  },
  function addAttribute(m, rng) {
    const n = rng.pick(nodesOf(m));
    const name = rng.pick(['strides', 'dilations', 'pads', 'kernel_shape', 'group', 'axis', 'perm', 'auto_pad', 'output_padding', 'ceil_mode']);
    n.attribute = (n.attribute ?? []).filter((a) => a.name !== name);
    const value =
      name === 'auto_pad'
        ? { type: 3, s: new TextEncoder().encode(rng.pick(['SAME_UPPER', 'SAME_LOWER', 'VALID', 'BOGUS'])) }
        : name === 'group' || name === 'axis' || name === 'ceil_mode'
          ? { type: 2, i: rng.pick(NASTY_INTS) }
          : { type: 7, ints: Array.from({ length: rng.pick([0, 1, 2, 2, 2, 4, 4, 5]) }, () => rng.pick(NASTY_INTS)) };
    n.attribute.push({ name, ...value });
    return `node '${n.name}' (${n.opType}) gets ${name} ${JSON.stringify(value, (_k, v) => (v instanceof Uint8Array ? new TextDecoder().decode(v) : v))}`;
  },
  function dropOutputs(m, rng) {
    const all = rng.chance(0.5);
    m.graph!.output = all ? [] : (m.graph!.output ?? []).slice(1);
    return all ? 'drop all graph outputs' : 'drop the first graph output';
  },
  function dropInputs(m) {
    m.graph!.input = [];
    return 'drop all graph inputs';
  },
  function nanInitializer(m, rng) {
    const t = rng.pick(initializersOf(m).filter((x) => x.dataType === 1));
    if (!t) return 'no float initializer';
    const v = rng.pick([NaN, Infinity, -Infinity]);
    if (t.rawData && t.rawData.length >= 4) {
      const raw = new Uint8Array(t.rawData);
      const k = rng.int(Math.floor(raw.length / 4));
      new DataView(raw.buffer).setFloat32(4 * k, v, true);
      t.rawData = raw;
      return `initializer '${t.name}'[${k}] := ${v} (raw)`;
    }
    if (t.floatData && t.floatData.length > 0) {
      const k = rng.int(t.floatData.length);
      t.floatData[k] = v;
      return `initializer '${t.name}'[${k}] := ${v}`;
    }
    return 'empty initializer';
  },
  function intInitializer(m, rng) {
    const t = rng.pick(initializersOf(m).filter((x) => x.dataType === 7 && (x.int64Data?.length ?? 0) > 0));
    if (!t) return 'no int64 initializer';
    const data = t.int64Data as number[];
    if (rng.chance(0.2)) {
      data.push(rng.pick(NASTY_INTS));
      t.dims = [data.length];
      return `initializer '${t.name}' gets one more value: [${data}]`;
    }
    const k = rng.int(data.length);
    data[k] = rng.pick(NASTY_INTS);
    return `initializer '${t.name}'[${k}] := ${data[k]}`;
  },
  function floatValue(m, rng) {
    const t = rng.pick(initializersOf(m).filter((x) => x.dataType === 1 && (x.rawData?.length ?? 0) >= 4 && x.rawData!.length <= 64));
    if (!t) return 'no small float initializer';
    const raw = new Uint8Array(t.rawData!);
    const k = rng.int(Math.floor(raw.length / 4));
    const v = rng.pick([0, -1, 0.5, 1e-30, 1e30, 2, 100]);
    new DataView(raw.buffer).setFloat32(4 * k, v, true);
    t.rawData = raw;
    return `initializer '${t.name}'[${k}] := ${v}`;
  },
  function initializerType(m, rng) {
    const t = rng.pick(initializersOf(m));
    if (!t) return 'no initializer';
    t.dataType = rng.int(18);
    return `initializer '${t.name}' dataType := ${t.dataType}`;
  },
  function shortenRaw(m, rng) {
    const t = rng.pick(initializersOf(m).filter((x) => (x.rawData?.length ?? 0) > 0));
    if (!t) return 'no raw data';
    t.rawData = t.rawData!.slice(0, rng.int(t.rawData!.length));
    return `initializer '${t.name}' raw_data := ${t.rawData.length} bytes`;
  },
  function opset(m, rng) {
    m.opsetImport = [{ domain: '', version: rng.pick([0, 1, 7, 8, 11, 13, 21, 22, 2 ** 31 - 1]) }];
    return `opset := ${m.opsetImport[0].version}`;
  },
  function dropNode(m, rng) {
    const nodes = nodesOf(m);
    const [n] = nodes.splice(rng.int(nodes.length), 1);
    return `drop node '${n?.name}'`;
  },
  function swapNodes(m, rng) {
    const nodes = nodesOf(m);
    const [i, j] = [rng.int(nodes.length), rng.int(nodes.length)];
    [nodes[i], nodes[j]] = [nodes[j], nodes[i]];
    return `swap nodes ${i} and ${j}`;
  },
  function rewire(m, rng) {
    const n = rng.pick(nodesOf(m));
    const names = [...nodesOf(m).flatMap((x) => x.output ?? []), ...initializersOf(m).map((t) => t.name!), 'nowhere', ''];
    if (rng.chance(0.5) && (n.input ?? []).length > 0) {
      const k = rng.int(n.input!.length);
      n.input![k] = rng.pick(names);
      return `node '${n.name}' input ${k} := '${n.input![k]}'`;
    }
    if (rng.chance(0.5)) {
      n.output = rng.pick([[], [rng.pick(names)], [...(n.output ?? []), `${n.name}_extra`]]);
      return `node '${n.name}' outputs := ${JSON.stringify(n.output)}`;
    }
    n.input = rng.chance(0.5) ? [] : [...(n.input ?? []), ...(n.input ?? [])];
    return `node '${n.name}' inputs := ${JSON.stringify(n.input)}`;
  },
  function opType(m, rng) {
    const n = rng.pick(nodesOf(m));
    const before = n.opType;
    n.opType = rng.pick(['Conv', 'ConvTranspose', 'Gemm', 'MatMul', 'Add', 'Relu', 'MaxPool', 'AveragePool', 'GlobalAveragePool', 'Flatten', 'Reshape', 'Transpose', 'Concat', 'Slice', 'Softmax', 'Squeeze', 'Unsqueeze', 'Pad', 'Resize', 'BatchNormalization', 'Clip', 'Cast', 'Constant', 'Shape', 'Identity']);
    return `node '${n.name}' op ${before} → ${n.opType}`;
  },
  function duplicateNode(m, rng) {
    const nodes = nodesOf(m);
    const n = rng.pick(nodes);
    nodes.splice(rng.int(nodes.length + 1), 0, onnx.NodeProto.fromObject(onnx.NodeProto.toObject(n as pkg.onnx.NodeProto)));
    return `duplicate node '${n.name}'`;
  },
];

/** One mutated ONNX file and what was done to it. */
export function mutateOnnx(bytes: Uint8Array, rng: Rng): { bytes: Uint8Array; label: string } {
  const r = rng.float();
  if (r < 0.15) return flipBits(bytes, rng);
  if (r < 0.25) return truncate(bytes, rng);
  if (r < 0.3) return overwriteInt32(bytes, rng);
  const m = onnx.ModelProto.decode(bytes);
  const labels: string[] = [];
  const edits = 1 + (rng.chance(0.3) ? rng.int(3) : 0);
  for (let k = 0; k < edits; k++) labels.push(rng.pick(EDITS)(m, rng));
  return { bytes: onnx.ModelProto.encode(m).finish(), label: labels.join('; ') };
}
