// The checks every report page must pass in headless Chromium, whatever it compares: it loads with no console
// error, every chart is a drawn SVG, the embedded data is report.json, and every number cell shows report.json's value.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import { REPORT_DATA } from '../../src/report/files.js';
import { CELL_FORMATS, formatCell, valueAt, type CellFormat } from '../../src/report/html.js';

export interface CheckedReportPage {
  /** The ids of the charts drawn, in page order. */
  readonly charts: string[];
  /** The data-key of every number cell, in page order. */
  readonly cells: string[];
  /** report.json as read from the folder. */
  readonly file: unknown;
}

/** Opens `url` in `page` and checks it against the report folder `reportDir`. */
export async function checkReportPage(page: Page, url: string, reportDir: string): Promise<CheckedReportPage> {
  const problems: string[] = [];
  page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
  page.on('pageerror', (e) => problems.push(e.message));
  await page.goto(url);
  expect(problems).toEqual([]);
  const charts = await page.$$eval('figure.chart', (figs) =>
    figs.map((f) => {
      const svg = f.querySelector('svg');
      const box = svg?.getBoundingClientRect();
      return { id: f.id, width: box?.width ?? 0, height: box?.height ?? 0, marks: svg?.querySelectorAll('path, rect, line').length ?? 0 };
    }),
  );
  for (const c of charts) {
    expect(c.width, c.id).toBeGreaterThan(100);
    expect(c.height, c.id).toBeGreaterThan(100);
    expect(c.marks, c.id).toBeGreaterThan(10);
  }
  const file = JSON.parse(readFileSync(join(reportDir, REPORT_DATA), 'utf8')) as unknown;
  const embedded = JSON.parse(await page.$eval('#report-data', (e) => e.textContent ?? '')) as unknown;
  expect(embedded).toEqual(file);
  const cells = await page.$$eval('td[data-key]', (tds) => tds.map((td) => ({ key: td.dataset.key!, format: td.dataset.format!, text: td.textContent })));
  for (const c of cells) {
    expect(CELL_FORMATS).toContain(c.format);
    const value = valueAt(file, c.key);
    expect(typeof value === 'number' || typeof value === 'string', c.key).toBe(true);
    expect(c.text, c.key).toBe(formatCell(value, c.format as CellFormat));
  }
  return { charts: charts.map((c) => c.id), cells: cells.map((c) => c.key), file };
}
