// The static server behind `flexq serve DIR`: a fixed route table, nothing else on disk is reachable.
//   /, /page.js, /page.css   the page (targets/web/page/)
//   /ort/<file>              onnxruntime-web's dist files (the .mjs loader and its .wasm)
//   /model/web.json          the page config (web-config.ts), computed per request so edits to DIR/web.json show
//   /model/model.qdq.onnx    DIR's QDQ model;  /model/model.onnx  DIR's float model (404 when absent)
//   /report/, /report/report.json   a validate --report folder's page and data (serve --report; / leads there
//                                    when no model DIR is served)

import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPORT_DATA, REPORT_PAGE } from '../../src/report/files.js';
import { ORT_WEB_DIST } from './ort-executor.js';
import { FLOAT_MODEL_FILE, pageConfig, QDQ_MODEL_FILE } from './web-config.js';

const PAGE_DIR = fileURLToPath(new URL('./page/', import.meta.url));

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
  '.json': 'application/json',
};

/** A file name with no directory part, as onnxruntime-web's loader asks for it. */
const ORT_FILE = /^\/ort\/([\w.-]+\.(?:mjs|wasm))$/;

export interface WebServer {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Cross-origin isolation on every response: with it the page may use SharedArrayBuffer, which onnxruntime-web's
 * threaded wasm needs; everything the page loads is same-origin, so nothing is blocked.
 */
const ISOLATION = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp', 'cross-origin-resource-policy': 'same-origin' };

function sendFile(res: ServerResponse, path: string): void {
  if (!existsSync(path) || !statSync(path).isFile()) return notFound(res);
  res.writeHead(200, { ...ISOLATION, 'content-type': CONTENT_TYPES[extname(path)] ?? 'application/octet-stream', 'cache-control': 'no-cache' });
  createReadStream(path).pipe(res);
}

function notFound(res: ServerResponse): void {
  res.writeHead(404, { ...ISOLATION, 'content-type': 'text/plain' });
  res.end('not found\n');
}

export interface ServeOptions {
  /** A validate --report folder to serve under /report/. */
  readonly reportDir?: string;
}

function routeReport(reportDir: string | undefined, path: string, res: ServerResponse): void {
  if (reportDir === undefined) return notFound(res);
  if (path === '/report/' || path === `/report/${REPORT_PAGE}`) return sendFile(res, join(reportDir, REPORT_PAGE));
  if (path === `/report/${REPORT_DATA}`) return sendFile(res, join(reportDir, REPORT_DATA));
  notFound(res);
}

function route(dir: string | undefined, o: ServeOptions, req: IncomingMessage, res: ServerResponse): void {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  const ort = ORT_FILE.exec(path);
  if (ort) return sendFile(res, join(ORT_WEB_DIST, ort[1]));
  if (path.startsWith('/report/')) return routeReport(o.reportDir, path, res);
  if (dir === undefined) {
    if (path !== '/' || o.reportDir === undefined) return notFound(res);
    res.writeHead(302, { ...ISOLATION, location: '/report/' });
    return void res.end();
  }
  switch (path) {
    case '/':
      return sendFile(res, join(PAGE_DIR, 'index.html'));
    case '/page.js':
    case '/page.css':
      return sendFile(res, join(PAGE_DIR, path.slice(1)));
    case '/model/web.json': {
      let body: string;
      try {
        body = JSON.stringify(pageConfig(dir));
      } catch (e) {
        res.writeHead(500, { ...ISOLATION, 'content-type': 'text/plain' });
        return void res.end(`${(e as Error).message}\n`);
      }
      res.writeHead(200, { ...ISOLATION, 'content-type': CONTENT_TYPES['.json'], 'cache-control': 'no-cache' });
      return void res.end(body);
    }
    case `/model/${QDQ_MODEL_FILE}`:
    case `/model/${FLOAT_MODEL_FILE}`:
      return sendFile(res, join(dir, path.slice('/model/'.length)));
    default:
      return notFound(res);
  }
}

/** Serves DIR (the page's model folder, if any) and the report folder on host:port (port 0: any free port) until close(). */
export async function startWebServer(dir: string | undefined, port: number, host = '127.0.0.1', o: ServeOptions = {}): Promise<WebServer> {
  const server = createServer((req, res) => route(dir, o, req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${host}:${address.port}/`,
    close: () => new Promise((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
  };
}
