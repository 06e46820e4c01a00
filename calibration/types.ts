/** Value presets a user picks with `--preprocess`; each is one row of PREPROCESS_PRESETS. */
export type Preprocess = 'none' | 'unit' | 'pm1' | 'imagenet' | 'mediapipe-selfie' | 'mediapipe-face';

/** What a user changes in a preset: how images reach the model's size, and the normalisation (x/255 − mean)/std. */
export interface PreprocessOverrides {
  /** short: resize the short side (to `size`, default the model's larger side) and centre-crop; exact: resize to H×W. */
  readonly resize?: 'short' | 'exact';
  readonly size?: number;
  /** Per channel (or one for all), on the 0..1 scale of x/255. */
  readonly mean?: readonly number[];
  readonly std?: readonly number[];
}

/** Axis order of a 4-D .npy file's samples; images are always decoded HWC. */
export type Layout = 'nchw' | 'nhwc';

export interface DataSpec {
  /** An ImageFolder directory, or a .npy file. */
  readonly path: string;
  /** A .npy of integer labels, one per row of a .npy data file. */
  readonly labels?: string;
  readonly preprocess: Preprocess;
  /** Changes to the preset (resize mode, size, mean, std). */
  readonly overrides?: PreprocessOverrides;
  /** Layout of a 4-D .npy file's samples (nhwc: [N,H,W,C]); samples are always delivered NCHW. */
  readonly layout?: Layout;
  /** At most this many samples (after offset). */
  readonly limit?: number;
  /** Skip this many samples first. */
  readonly offset?: number;
  /** The model input's shape without the batch dim, NCHW, e.g. [3,32,32] or [1,49,10]. */
  readonly sampleShape: readonly number[];
}

export interface Batch {
  /** `count` samples of `sampleShape`, back to back. */
  readonly data: Float32Array;
  readonly count: number;
  readonly labels?: Int32Array;
  /** Where each sample came from (a file path, or `file.npy[row]`), for error messages and reports. */
  readonly ids: string[];
}

export interface Dataset {
  /** Samples after offset/limit. */
  readonly size: number;
  readonly sampleShape: readonly number[];
  /** ImageFolder folder names, sorted: label i is classNames[i]. */
  readonly classNames?: readonly string[];
  readonly labeled: boolean;
  /** Lazy: decodes only the batch at hand, in order; the same spec always gives the same bytes. */
  batches(batchSize: number): AsyncIterable<Batch>;
}
