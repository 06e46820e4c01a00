import { fail } from '../src/errors.js';
import { sizeOf } from '../src/ir/shape.js';
import type { Batch, Dataset } from './types.js';

/** A data source indexed in its fixed order: one reader per kind of source (ImageFolder, .npy). */
export interface SampleSource {
  /** The path the user named, for messages. */
  readonly path: string;
  /** Samples before offset/limit. */
  readonly count: number;
  readonly sampleShape: readonly number[];
  readonly classNames?: readonly string[];
  readonly labeled: boolean;
  /** Meaningful only when `labeled`. */
  labelOf(index: number): number;
  idOf(index: number): string;
  /** Writes sample `index`, preprocessed and NCHW, into `out` (exactly one sample long). */
  readInto(index: number, out: Float32Array): Promise<void>;
}

export interface SampleRange {
  readonly offset: number;
  readonly limit?: number;
}

/** The samples [offset, offset + limit) of a source as a Dataset. */
export function sliceSource(source: SampleSource, range: SampleRange): Dataset {
  const size = Math.min(source.count - range.offset, range.limit ?? Infinity);
  if (size <= 0) {
    fail('DATA_EMPTY', `${source.path}: --offset ${range.offset} skips all ${source.count} samples; use an offset below ${source.count}.`);
  }
  return {
    size,
    sampleShape: source.sampleShape,
    ...(source.classNames ? { classNames: source.classNames } : {}),
    labeled: source.labeled,
    batches: (batchSize) => readBatches(source, range.offset, size, checkedBatchSize(batchSize)),
  };
}

function checkedBatchSize(batchSize: number): number {
  if (!Number.isInteger(batchSize) || batchSize < 1) fail('BAD_ARGUMENT', `batch size must be a positive integer; got ${batchSize}.`);
  return batchSize;
}

async function* readBatches(source: SampleSource, first: number, size: number, batchSize: number): AsyncGenerator<Batch> {
  const sampleSize = sizeOf(source.sampleShape);
  for (let start = 0; start < size; start += batchSize) {
    const indices = Array.from({ length: Math.min(batchSize, size - start) }, (_, k) => first + start + k);
    const data = new Float32Array(indices.length * sampleSize);
    await readAllInOrder(indices.map((index, k) => source.readInto(index, data.subarray(k * sampleSize, (k + 1) * sampleSize))));
    yield {
      data,
      count: indices.length,
      ...(source.labeled ? { labels: Int32Array.from(indices, (i) => source.labelOf(i)) } : {}),
      ids: indices.map((i) => source.idOf(i)),
    };
  }
}

// Samples decode concurrently; the error reported is the first failing sample's in order, so a run fails the same way every time.
async function readAllInOrder(reads: Promise<void>[]): Promise<void> {
  const failed = (await Promise.allSettled(reads)).find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
}
