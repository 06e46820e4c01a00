// What the page needs to know about the model in a served directory, and the files it reads there.
// DIR/model.qdq.onnx   the QDQ model (`flexq export OUT.fq --format onnx-qdq -o DIR/model.qdq.onnx`), required
// DIR/model.onnx       the float model it was quantized from, optional (the page then compares against it)
// DIR/web.json         { "preprocess": "none|unit|pm1|imagenet", "labels": ["airplane", …] }, written by
//                      `flexq serve DIR --preprocess P --labels FILE`; edit it by hand if you like
// The server adds what it reads from the model (input name and shape) and the preset's value tables, so the page
// maps pixels to input values with the same float32 arithmetic as flexq's own data loading.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pkg from 'onnx-proto';
import { PREPROCESS_PRESETS, type Preprocess } from '../../calibration/index.js';
import { byteLookupTables, shortSideOf, type Geometry } from '../../calibration/preprocess.js';
import { fail } from '../../src/errors.js';

export const QDQ_MODEL_FILE = 'model.qdq.onnx';
export const FLOAT_MODEL_FILE = 'model.onnx';
export const WEB_CONFIG_FILE = 'web.json';

/** DIR/web.json: what a person chooses. */
export interface WebSettings {
  readonly preprocess: Preprocess;
  readonly labels?: readonly string[];
}

/** What the page receives at /model/web.json. */
export interface PageConfig extends WebSettings {
  readonly inputName: string;
  /** [C, H, W] of one sample. */
  readonly inputShape: readonly [number, number, number];
  readonly geometry: Geometry;
  /** valueTables[c][byte]: the model input value of a pixel byte in channel c (calibration/preprocess.ts). */
  readonly valueTables: readonly (readonly number[])[];
  readonly hasFloatModel: boolean;
  /** The QDQ flavour flexq recorded in the model's metadata (flexq.flavour); absent in a model flexq did not export. */
  readonly flavour?: string;
}

const PRESETS = Object.keys(PREPROCESS_PRESETS) as Preprocess[];

export function parsePreprocess(text: string, where: string): Preprocess {
  if (!(PRESETS as string[]).includes(text)) fail('BAD_ARGUMENT', `${where}: preprocess '${text}': expected one of ${PRESETS.join(', ')}`);
  return text as Preprocess;
}

/** Labels from a text file (one per line) or a JSON array of strings. */
export function readLabels(path: string): string[] {
  if (!existsSync(path)) fail('FILE_NOT_FOUND', `${path}: no such labels file; give a text file with one label per line, or a JSON array`);
  const text = readFileSync(path, 'utf8');
  if (path.endsWith('.json')) {
    const parsed: unknown = JSON.parse(text);
    if (!Array.isArray(parsed) || !parsed.every((l) => typeof l === 'string')) fail('BAD_ARGUMENT', `${path}: expected a JSON array of label strings`);
    return parsed as string[];
  }
  return text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
}

export function readWebSettings(dir: string): WebSettings {
  const path = join(dir, WEB_CONFIG_FILE);
  if (!existsSync(path)) return { preprocess: 'none' };
  let parsed: { preprocess?: unknown; labels?: unknown };
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8')) as typeof parsed;
  } catch (e) {
    return fail('BAD_ARGUMENT', `${path}: not valid JSON (${(e as Error).message}); fix it or write it again with flexq serve --preprocess`);
  }
  const labels = parsed.labels;
  if (labels !== undefined && !(Array.isArray(labels) && labels.every((l) => typeof l === 'string')))
    fail('BAD_ARGUMENT', `${path}: "labels" must be an array of strings`);
  return { preprocess: parsePreprocess(String(parsed.preprocess ?? 'none'), path), ...(labels ? { labels: labels as string[] } : {}) };
}

/** The input name and per-sample [C, H, W] of a QDQ model file, and the flavour flexq recorded in it. */
export function modelInput(path: string): { name: string; shape: [number, number, number]; flavour?: string } {
  let model: pkg.onnx.ModelProto;
  try {
    model = pkg.onnx.ModelProto.decode(readFileSync(path));
  } catch (e) {
    return fail('MODEL_PARSE', `${path}: not an ONNX model (${(e as Error).message}); write it with flexq export --format onnx-qdq`);
  }
  const input = model.graph?.input?.[0];
  const dims = input?.type?.tensorType?.shape?.dim?.slice(1).map((d) => Number(d.dimValue ?? 0)) ?? [];
  if (!input?.name || dims.length !== 3 || dims.some((d) => !(d > 0)))
    fail('UNSUPPORTED_ATTR', `${path}: input '${input?.name ?? '?'}' must be [N, C, H, W] with static C, H, W for the page; found ${dims.length + 1} dims`);
  const flavour = model.metadataProps?.find((p) => p.key === 'flexq.flavour')?.value ?? undefined;
  return { name: input!.name!, shape: [dims[0], dims[1], dims[2]], ...(flavour ? { flavour } : {}) };
}

export function pageConfig(dir: string): PageConfig {
  const settings = readWebSettings(dir);
  const { name, shape, flavour } = modelInput(join(dir, QDQ_MODEL_FILE));
  const preset = PREPROCESS_PRESETS[settings.preprocess];
  if (preset.channels !== undefined && preset.channels !== shape[0])
    fail('BAD_ARGUMENT', `${join(dir, WEB_CONFIG_FILE)}: preprocess '${settings.preprocess}' is for ${preset.channels} channels; the model takes ${shape[0]}`);
  return {
    ...settings,
    inputName: name,
    inputShape: shape,
    // The page needs the short side in pixels: resolved here for this model's H×W.
    geometry: preset.geometry.kind === 'resize-crop' ? { kind: 'resize-crop', shortSide: shortSideOf(preset.geometry, shape[1], shape[2]) } : preset.geometry,
    valueTables: byteLookupTables(preset, shape[0]).map((t) => Array.from(t)),
    hasFloatModel: existsSync(join(dir, FLOAT_MODEL_FILE)),
    ...(flavour ? { flavour } : {}),
  };
}

/** Why onnxruntime-web runs a flavour slower than ort-web (MobileNetV2 int8 against float, `npm run bench -- web`). */
const SLOWER_IN_ORT_WEB: Readonly<Record<string, string>> = {
  generic: 'its int8 activations take the slow s8·s8 kernels, about 4× slower than the float model',
  'ort-node': 'its 7-bit weights and full QLinearConvs suit onnxruntime-node; in onnxruntime-web MobileNetV2 runs at 0.64× float against 1.18×',
};

/** A line for the person serving a QDQ model of a flavour onnxruntime-web runs slower than ort-web; else undefined. */
export function flavourNote(dir: string, config: PageConfig): string | undefined {
  const why = config.flavour === undefined ? undefined : SLOWER_IN_ORT_WEB[config.flavour];
  if (why === undefined) return undefined;
  const file = join(dir, QDQ_MODEL_FILE);
  return `note: ${file} is the '${config.flavour}' QDQ flavour: ${why}; for the page, export the 'ort-web' flavour: flexq export OUT.fq --format onnx-qdq --flavour ort-web -o ${file}`;
}
