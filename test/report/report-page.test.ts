// validate --report in real headless Chromium, served the way `flexq serve --report` serves it: ResNet-8 RTN W4A8
// against float on CIFAR-10 test images (runtime in two modes), with blame and a bit plan. The page loads with no
// console error and no network request beyond the server, every chart is a drawn SVG, a screenshot is not blank,
// and every number cell shows the value report.json holds.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeReport } from '../../src/api/report.js';
import { REPORT_PAGE } from '../../src/report/files.js';
import { validate } from '../../src/api/validate.js';
import { quantize } from '../../src/index.js';
import { CHROMIUM_PATH } from '../../src/system-tools.js';
import { startWebServer, type WebServer } from '../../targets/web/server.js';
import { checkReportPage } from '../helpers/report-page.js';
import { data, model } from '../helpers/shared.js';
import { lacksTools } from '../helpers/tools.js';

/** Where the screenshot is kept for a person to look at (ignored by git). */
const ARTIFACTS = fileURLToPath(new URL('../.artifacts/', import.meta.url));

describe.skipIf(lacksTools('chromium'))('validate --report page in headless Chromium (ResNet-8 W4A8)', () => {
  let work: string;
  let server: WebServer;
  let browser: Browser;
  let reportDir: string;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'flexq-report-'));
    reportDir = join(work, 'report');
    const onnx = model('resnet8-cifar10/float.onnx');
    const q = await quantize(onnx, { calib: data('cifar10/calib-1024'), limit: 128, wbits: 4, abits: 8 });
    const r = await validate(onnx, q, { data: data('cifar10/test-200'), limit: 16, modes: ['tflite-double', 'onnx'], blame: true, budgetKb: 25 });
    await writeReport(reportDir, [r], { command: 'flexq validate (test)' });
    server = await startWebServer(undefined, 0, '127.0.0.1', { reportDir });
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: ['--no-sandbox'] });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('loads with no console error, draws every chart, is not blank, and shows report.json to the digit', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    const checked = await checkReportPage(page, server.url, reportDir); // redirects to /report/
    expect(page.url()).toBe(`${server.url}report/`);
    // Self-contained: the page asks for nothing but itself.
    expect(requests.filter((u) => !u.startsWith(`${server.url}report/`) && u !== server.url)).toEqual([]);
    expect(checked.charts.map((id) => id.replace(/^v0-/, '')).sort()).toEqual(['blame', 'confusion', 'cosine', 'histograms', 'mismatch', 'plan', 'sqnr']);
    expect(checked.cells.length).toBeGreaterThan(40);

    mkdirSync(ARTIFACTS, { recursive: true });
    const shot = join(ARTIFACTS, 'report-resnet8.png');
    await page.screenshot({ path: shot, fullPage: true });
    const { channels } = await sharp(shot).stats();
    // A blank page has one colour: no spread in any channel.
    expect(Math.max(...channels.map((c) => c.stdev))).toBeGreaterThan(20);

    // The accuracy figures are computed, not placeholders: float ResNet-8 gets most of these images right.
    const shown = await page.$eval(`td[data-key="validations.0.floatTop1"]`, (td) => td.textContent);
    expect(parseFloat(shown!)).toBeGreaterThan(70);
    expect(readFileSync(join(reportDir, REPORT_PAGE), 'utf8')).toContain('flexq validate (test)');
    await page.close();
  }, 120_000);
});
