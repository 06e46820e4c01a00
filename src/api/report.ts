// validate --report DIR: the report folder, index.html (self-contained) and report.json beside it, written whole
// through the output-folder rules (a folder of the user's is never overwritten).
import { join } from 'node:path';
import { writeFileAtomic } from '../fs-atomic.js';
import { writeOutputFolder } from '../output-folder.js';
import { REPORT_DATA, REPORT_PAGE } from '../report/files.js';
import { jsonNumbers, reportHtml, type ReportData } from '../report/html.js';
import { FLEXQ_VERSION } from '../version.js';
import type { ValidateReport } from './validate.js';

export interface ReportOptions {
  /** The command line that reproduces the report, shown on the page. */
  readonly command: string;
  /** Write into a non-empty folder flexq did not write (only its own files are replaced). */
  readonly force?: boolean;
}

/** Writes the report of one or more validations of the same model into `dir`; returns the paths written. */
export async function writeReport(dir: string, validations: ValidateReport[], o: ReportOptions): Promise<string[]> {
  const data: ReportData = { format: 'flexq-report/1', flexqVersion: FLEXQ_VERSION, created: new Date().toISOString(), command: o.command, validations };
  const json = JSON.stringify(data, jsonNumbers, 1);
  const page = await reportHtml(data, json);
  return writeOutputFolder(dir, (staging) => {
    writeFileAtomic(join(staging, REPORT_DATA), json + '\n');
    writeFileAtomic(join(staging, REPORT_PAGE), page);
  }, { force: o.force });
}
