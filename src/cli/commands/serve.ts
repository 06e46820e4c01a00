import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { startWebServer } from '../../../targets/web/server.js';
import { flavourNote, pageConfig, parsePreprocess, QDQ_MODEL_FILE, readLabels, readWebSettings, WEB_CONFIG_FILE, type PageConfig, type WebSettings } from '../../../targets/web/web-config.js';
import { fail } from '../../errors.js';
import { writeFileAtomic } from '../../fs-atomic.js';
import { REPORT_PAGE } from '../../report/files.js';
import { parseCount } from '../options.js';

interface ServeOptions { port: number; host: string; preprocess?: string; labels?: string; json?: boolean; report?: string }

/** Checks DIR, writes DIR/web.json when --preprocess or --labels are given, and returns the page config. */
export function prepareServeDir(dir: string, o: Pick<ServeOptions, 'preprocess' | 'labels'>): PageConfig {
  if (!existsSync(join(dir, QDQ_MODEL_FILE)))
    fail('FILE_NOT_FOUND', `${dir}: no ${QDQ_MODEL_FILE}; write it with: flexq export OUT.fq --format onnx-qdq -o ${join(dir, QDQ_MODEL_FILE)}`);
  if (o.preprocess !== undefined || o.labels !== undefined) {
    const current = readWebSettings(dir);
    const settings: WebSettings = {
      preprocess: o.preprocess !== undefined ? parsePreprocess(o.preprocess, '--preprocess') : current.preprocess,
      ...(o.labels !== undefined ? { labels: readLabels(o.labels) } : current.labels ? { labels: current.labels } : {}),
    };
    writeFileAtomic(join(dir, WEB_CONFIG_FILE), JSON.stringify(settings, null, 2) + '\n');
  }
  return pageConfig(dir); // validates the model and the settings before the server starts
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve the onnxruntime-web page for DIR/model.qdq.onnx (DIR/model.onnx, the float model, is compared when present), and/or a validate report at /report/')
    .argument('[dir]', 'directory with model.qdq.onnx, optionally model.onnx and web.json')
    .option('--port <n>', 'port (0: any free port)', parseCount('--port'), 8080)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--preprocess <preset>', 'none | unit | pm1 | imagenet (written to DIR/web.json)')
    .option('--labels <file>', 'class labels, one per line or a JSON array (written to DIR/web.json)')
    .option('--report <dir>', 'also serve this validate --report folder at /report/')
    .option('--json', 'one JSON object on stdout when the server is up')
    .action(async (dir: string | undefined, o: ServeOptions) => {
      if (dir === undefined && o.report === undefined) fail('BAD_ARGUMENT', 'serve: give a model folder (DIR with model.qdq.onnx), a report folder (--report DIR), or both');
      if (o.report !== undefined && !existsSync(join(o.report, REPORT_PAGE)))
        fail('FILE_NOT_FOUND', `--report ${o.report}: no ${REPORT_PAGE}; write the report with flexq validate MODEL FQ --data DATA --report ${o.report}`);
      const config = dir === undefined ? undefined : prepareServeDir(dir, o);
      const note = dir === undefined ? undefined : flavourNote(dir, config!);
      if (note) process.stderr.write(`${note}\n`);
      const server = await startWebServer(dir, o.port, o.host, { reportDir: o.report });
      const report = o.report === undefined ? undefined : `${server.url}report/`;
      if (o.json) process.stdout.write(JSON.stringify({ url: server.url, dir, preprocess: config?.preprocess, inputShape: config?.inputShape, floatModel: config?.hasFloatModel, flavour: config?.flavour, report }) + '\n');
      else process.stdout.write(`serving ${[dir, o.report].filter((d) => d !== undefined).join(' and ')} at ${report ?? server.url} (Ctrl-C stops)\n`);
      await new Promise<void>((resolve) => process.once('SIGINT', resolve));
      await server.close();
    });
}
