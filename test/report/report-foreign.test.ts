// One report comparing flexq's model with the TFLite converter's, from the command line: ResNet-8 RTN W8A8 (.fq)
// and MLPerf's int8-reference.tflite against float.onnx on CIFAR-10 test images, each in the integer runtime and in
// LiteRT.js. The converter's model gets its own section with per-layer SQNR (its import carries float.onnx's names),
// the comparison table and chart come first, and the page shows report.json to the digit in headless Chromium.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ValidateReport } from '../../src/api/validate.js';
import { quantize, writeQuantized } from '../../src/index.js';
import { REPORT_DATA, REPORT_PAGE } from '../../src/report/files.js';
import type { ReportData } from '../../src/report/html.js';
import { CHROMIUM_PATH } from '../../src/system-tools.js';
import { flexq } from '../helpers/cli.js';
import { checkReportPage } from '../helpers/report-page.js';
import { data, model } from '../helpers/shared.js';
import { lacksTools } from '../helpers/tools.js';

const FLOAT = model('resnet8-cifar10/float.onnx');
const CONVERTED = model('resnet8-cifar10/int8-reference.tflite');
const SAMPLES = 24;

describe.skipIf(lacksTools('chromium'))('validate FLOAT flexq.fq converter.tflite --report: one report, a section each', () => {
  let work: string;
  let reportDir: string;
  let stdout: string;
  let report: ReportData;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'flexq-report-foreign-'));
    reportDir = join(work, 'report');
    const fq = join(work, 'r8.fq');
    writeQuantized(fq, await quantize(FLOAT, { calib: data('cifar10/calib-1024'), limit: 64, method: 'rtn', wbits: 8, abits: 8 }));
    const r = await flexq('validate', FLOAT, fq, CONVERTED, '--data', data('cifar10/test-200'), '--limit', String(SAMPLES),
      '--executors', 'runtime,litert', '--modes', 'tflite-xnnpack', '--report', reportDir, '--json');
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    stdout = r.stdout;
    report = JSON.parse(readFileSync(join(reportDir, REPORT_DATA), 'utf8')) as ReportData;
  }, 180_000);

  afterAll(() => work && rmSync(work, { recursive: true, force: true }));

  it('report.json holds both models, each in the runtime and LiteRT.js, with the same integers in both', () => {
    expect(JSON.parse(stdout)).toHaveLength(2);
    const [flexqModel, converted] = report.validations as ValidateReport[];
    expect([flexqModel.artefact, converted.artefact]).toEqual(['fq', 'tflite']);
    expect(converted.quantized).toBe(CONVERTED);
    expect(converted.quantization.method).toBe('imported');
    for (const v of [flexqModel, converted]) {
      expect(v.count).toBe(SAMPLES);
      expect(v.executors.map((e) => e.executor)).toEqual(['runtime (tflite-xnnpack)', expect.stringMatching(/^LiteRT\.js/)]);
      // The runtime reads the same integers the file holds: LiteRT.js gives exactly its outputs.
      expect(Object.values(v.mismatches).flatMap((row) => Object.values(row))).toEqual([0, 0, 0, 0]);
      for (const e of v.executors) {
        expect(e.top1Agreement).toBeGreaterThanOrEqual(0.85);
        expect(e.output.sqnrDb).toBeGreaterThan(15);
      }
      // ResNet-8's 77 360 weights (10 layers), one byte each at 8 bits, in both.
      expect(v.weightBytes).toBe(77_360);
    }
    // Per-layer figures of the converter's model under float.onnx's names: every conv, the three residual ReLUs, the
    // pool, flatten, FC and softmax (its Adds are fused with their ReLUs, so only the ReLUs' outputs compare).
    const flexqLayers = flexqModel.executors[0].layers.map((l) => l.value);
    const convertedLayers = converted.executors[0].layers;
    expect(convertedLayers.map((l) => l.value)).toEqual(flexqLayers.filter((v) => !v.startsWith('add_preact')));
    expect(convertedLayers).toHaveLength(16);
    for (const l of convertedLayers) expect(l.sqnrDb, l.value).toBeGreaterThan(15);
    expect(converted.executors[1].layers.map((l) => l.value)).toEqual(['T37']); // LiteRT.js: the output only
  });

  it('the page renders the comparison and both sections, and its numbers are report.json\'s', async () => {
    const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      const checked = await checkReportPage(page, pathToFileURL(join(reportDir, REPORT_PAGE)).href, reportDir);
      const sections = ['sqnr', 'cosine', 'histograms', 'confusion', 'mismatch'];
      expect(checked.charts).toEqual(['compare', ...sections.map((c) => `v0-${c}`), ...sections.map((c) => `v1-${c}`)]);
      // The comparison table: each model's top-1, agreement, output SQNR and size, runtime and LiteRT.js.
      const compared = ['top1', 'top1Agreement', 'output.sqnrDb'];
      const rows = [0, 1].flatMap((k) => [0, 1].map((j) => [...compared.map((f) => `validations.${k}.executors.${j}.${f}`), `validations.${k}.weightBytes`]));
      expect(checked.cells.slice(0, 16)).toEqual(rows.flat());
      const headings = await page.$$eval('h2', (hs) => hs.map((h) => h.textContent));
      expect(headings).toEqual(['Comparison', expect.stringMatching(/r8\.fq: made by flexq, rtn W8A8$/), `${CONVERTED}: made by another tool (int8 tflite), imported by flexq to run in its runtime`]);
    } finally {
      await browser.close();
    }
  }, 60_000);
});
