// How a long job reports progress: the caller gives a factory (the CLI draws a bar or prints lines); the library
// default is silent.

export interface Progress {
  advance(count: number): void;
  finish(): void;
}

/** Makes the progress of one stage ('calibrate', 'flexround', 'eval', …) over `total` steps. */
export type ProgressFactory = (stage: string, total: number) => Progress;

export const silentProgress: ProgressFactory = () => ({ advance() {}, finish() {} });

/** What every job takes besides its own options. */
export interface JobHooks {
  readonly progress?: ProgressFactory;
  /** One-line notes a person may want (the chosen settings, an executor left out); silent by default. */
  readonly log?: (line: string) => void;
}
