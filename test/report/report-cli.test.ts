// serve --report checks its folder before the server starts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { flexq } from '../helpers/cli.js';

describe('serve --report on the command line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flexq-report-cli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('serve --report refuses a folder that holds no report', async () => {
    const empty = await flexq('serve', '--report', dir, '--port', '0');
    expect(empty.code).not.toBe(0);
    expect(empty.stderr).toContain(`--report ${dir}: no index.html; write the report with flexq validate`);
  });
});
