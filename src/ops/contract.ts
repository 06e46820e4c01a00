import type { DType, TensorData } from '../ir/dtype.js';
import type { AttrValue, Node } from '../ir/graph.js';
import type { Shape } from '../ir/shape.js';
import { fail } from '../errors.js';

/** What shape inference knows about one input: its type, shape and, for constants, its data. */
export interface InputInfo {
  readonly dtype: DType;
  readonly shape: Shape;
  readonly data?: TensorData;
}

export interface OutputInfo {
  readonly dtype: DType;
  readonly shape: Shape;
}

/** A constant tensor, the currency of constant folding. */
export interface ConstTensor {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: TensorData;
}

/**
 * One operator's contract: arity, shape inference and (for cheap ops) constant evaluation.
 * Attributes are in flexq's normalized form, documented in each op's file.
 */
export interface OpContract {
  readonly op: string;
  readonly minInputs: number;
  readonly maxInputs: number;
  /** Output types and shapes; `inputs[i]` is undefined for an omitted optional input. */
  infer(node: Node, inputs: readonly (InputInfo | undefined)[]): OutputInfo[];
  /** Evaluates the op on constants, for constant folding. Only ops that are cheap and exact on typed arrays have it. */
  evaluate?(node: Node, inputs: readonly (ConstTensor | undefined)[]): ConstTensor[];
}

export function nodeError(node: Node, what: string): never {
  return fail('SHAPE', `node '${node.name}' (${node.op}): ${what}`);
}

function attr(node: Node, key: string): AttrValue | undefined {
  return node.attrs[key];
}

export function intAttr(node: Node, key: string, fallback?: number): number {
  const v = attr(node, key) ?? fallback;
  if (!Number.isSafeInteger(v)) return nodeError(node, `attribute '${key}' must be an integer, found ${JSON.stringify(v)}`);
  return v as number;
}

export function intsAttr(node: Node, key: string, fallback?: readonly number[]): readonly number[] {
  const v = attr(node, key) ?? fallback;
  if (!Array.isArray(v) || v.some((x) => !Number.isSafeInteger(x)))
    return nodeError(node, `attribute '${key}' must be a list of integers, found ${JSON.stringify(v)}`);
  return v as readonly number[];
}

/** An axis in [−rank, rank) resolved to [0, rank); `what` names where it came from. */
export function checkedAxis(node: Node, axis: number, rank: number, what = 'axis'): number {
  if (!Number.isSafeInteger(axis) || axis < -rank || axis >= rank)
    return nodeError(node, `${what} ${axis} is out of range for a rank-${rank} tensor; expected ${-rank}..${rank - 1}`);
  return axis < 0 ? axis + rank : axis;
}

export function stringAttr(node: Node, key: string, fallback?: string): string {
  const v = attr(node, key) ?? fallback;
  if (typeof v !== 'string') return nodeError(node, `attribute '${key}' must be a string, found ${JSON.stringify(v)}`);
  return v;
}

export function requireInput(node: Node, inputs: readonly (InputInfo | undefined)[], i: number): InputInfo {
  const x = inputs[i];
  if (!x) return nodeError(node, `input ${i} is required`);
  return x;
}

