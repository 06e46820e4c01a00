import type { Node } from '../ir/graph.js';
import { MAX_DIM } from '../ir/limits.js';
import { windowOutput, type Dim } from '../ir/shape.js';
import { intsAttr, nodeError, type InputInfo } from './contract.js';

/** Normalized 2-D window attributes shared by Conv and the pools: pads are [top, left, bottom, right]. */
export interface Window2d {
  readonly kernel: [number, number];
  readonly strides: [number, number];
  readonly pads: [number, number, number, number];
  readonly dilations: [number, number];
}

/**
 * What is wrong with window attributes, or undefined: kernel, strides and dilations ≥ 1, pads ≥ 0, none above
 * MAX_DIM. Importers call it before they compute padding from strides; `pads` is omitted where not yet known.
 */
export function windowProblem(kernel: readonly number[], strides: readonly number[], dilations: readonly number[], pads?: readonly number[]): string | undefined {
  const lists: [string, readonly number[] | undefined, number][] = [['kernel', kernel, 1], ['strides', strides, 1], ['dilations', dilations, 1], ['pads', pads, 0]];
  for (const [key, values, least] of lists) {
    const bad = values?.find((v) => !Number.isSafeInteger(v) || v < least || v > MAX_DIM);
    if (bad !== undefined) return `${key} [${values}] holds ${bad}; every entry must be an integer in ${least}..${MAX_DIM}`;
  }
  return undefined;
}

export function window2d(node: Node): Window2d {
  const kernel = intsAttr(node, 'kernel');
  const strides = intsAttr(node, 'strides', [1, 1]);
  const pads = intsAttr(node, 'pads', [0, 0, 0, 0]);
  const dilations = intsAttr(node, 'dilations', [1, 1]);
  if (kernel.length !== 2 || strides.length !== 2 || pads.length !== 4 || dilations.length !== 2)
    return nodeError(node, `only 2-D windows are supported (kernel ${JSON.stringify(kernel)}, strides ${JSON.stringify(strides)}, pads ${JSON.stringify(pads)}, dilations ${JSON.stringify(dilations)})`);
  const problem = windowProblem(kernel, strides, dilations, pads);
  if (problem) return nodeError(node, problem);
  return {
    kernel: [kernel[0], kernel[1]],
    strides: [strides[0], strides[1]],
    pads: [pads[0], pads[1], pads[2], pads[3]],
    dilations: [dilations[0], dilations[1]],
  };
}

export function require4d(node: Node, x: InputInfo, what: string): readonly Dim[] {
  if (x.shape.length !== 4) return nodeError(node, `${what} must be 4-D NCHW, found rank ${x.shape.length}`);
  return x.shape;
}

/** Output [N, channels, H', W'] of a 2-D sliding window over an NCHW input. */
export function windowShape(node: Node, x: readonly Dim[], channels: Dim, w: Window2d, ceil = false): Dim[] {
  const h = windowOutput(x[2], w.kernel[0], w.strides[0], w.pads[0], w.pads[2], w.dilations[0], ceil);
  const wd = windowOutput(x[3], w.kernel[1], w.strides[1], w.pads[1], w.pads[3], w.dilations[1], ceil);
  if ((typeof h === 'number' && h < 1) || (typeof wd === 'number' && wd < 1))
    return nodeError(
      node,
      `window ${w.kernel.join('x')} (dilations ${w.dilations.join('x')}, pads [${w.pads}]) does not fit input [${x.join(',')}]: ` +
        `the output would be ${h}x${wd}; expected a kernel no larger than the padded input`,
    );
  return [x[0], channels, h, wd];
}
