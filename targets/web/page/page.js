// The flexq page: classifies a dropped image with the int8 QDQ model in onnxruntime-web (wasm), and with the float
// model when the directory has one, on wasm or, where the browser has a WebGPU adapter, on WebGPU. Pixels become input values through the value tables the server computed from
// flexq's preprocessing preset (calibration/preprocess.ts), so an image the model sees at its own size gives the
// same input tensor as `flexq eval` does. window.flexq exposes the last result (tests read it).
// The WebGPU build also holds the wasm provider, so one onnxruntime-web serves both.
import * as ort from '/ort/ort.webgpu.min.mjs';

ort.env.wasm.wasmPaths = '/ort/';
// Threads need SharedArrayBuffer, which a cross-origin-isolated page has (flexq serve sends the headers).
const THREADS = self.crossOriginIsolated ? Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1)) : 1;
ort.env.wasm.numThreads = THREADS;
// The same session options as flexq's ort-web executor (ORT_WEB_SESSION_OPTIONS in targets/web/ort-executor.ts):
// worker threads block rather than spin between kernels.
const OPTIONS = { graphOptimizationLevel: 'all', extra: { session: { qdqisint8allowed: '1', intra_op: { allow_spinning: '0' } } } };
const TIMED_RUNS = 5;

const $ = (id) => document.getElementById(id);
window.flexq = { ready: false, last: null, error: null, threads: THREADS, isolated: self.crossOriginIsolated, bytes: {}, webgpu: false };

const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;

/** A model's bytes (the page shows their size). */
async function fetchModel(url, key) {
  const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
  window.flexq.bytes[key] = bytes.length;
  return bytes;
}

/** A session on wasm, or on WebGPU (onnxruntime-web places the ops WebGPU lacks on wasm). */
function openSession(bytes, provider) {
  return ort.InferenceSession.create(bytes, provider === 'webgpu' ? { ...OPTIONS, executionProviders: ['webgpu', 'wasm'] } : OPTIONS);
}

/** Whether this browser gives the page a WebGPU adapter (headless and GPU-less browsers often do not). */
async function hasWebGpuAdapter() {
  try {
    return Boolean(navigator.gpu && (await navigator.gpu.requestAdapter()));
  } catch {
    return false;
  }
}

function setStatus(text, error = false) {
  $('status').textContent = text;
  $('status').classList.toggle('error', error);
}

/** The source rectangle an image is drawn from: all of it, or the centre crop after resizing the short side. */
function sourceRect(bitmap, geometry, width, height) {
  if (geometry.kind !== 'resize-crop') return [0, 0, bitmap.width, bitmap.height];
  const scale = geometry.shortSide / Math.min(bitmap.width, bitmap.height);
  const [w, h] = [width / scale, height / scale];
  return [(bitmap.width - w) / 2, (bitmap.height - h) / 2, w, h];
}

/** An image file → the model's float32 NCHW input (batch 1), and the RGBA pixels drawn into the preview. */
async function inputTensor(file, config) {
  const [channels, height, width] = config.inputShape;
  const bitmap = await createImageBitmap(file, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  const canvas = $('preview');
  [canvas.width, canvas.height] = [width, height];
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(bitmap, ...sourceRect(bitmap, config.geometry, width, height), 0, 0, width, height);
  const rgba = ctx.getImageData(0, 0, width, height).data;
  const tables = config.valueTables.map((t) => Float32Array.from(t));
  const data = new Float32Array(channels * height * width);
  for (let p = 0; p < height * width; p++) {
    const [r, g, b] = [rgba[4 * p], rgba[4 * p + 1], rgba[4 * p + 2]];
    if (channels === 1) data[p] = tables[0][Math.round(0.299 * r + 0.587 * g + 0.114 * b)];
    else for (let c = 0; c < channels; c++) data[c * height * width + p] = tables[c][rgba[4 * p + c]];
  }
  return data;
}

/** Runs a session TIMED_RUNS + 1 times (the first warms it up); returns the output and the median latency in ms. */
async function timedRun(session, inputName, data, shape) {
  const feeds = { [inputName]: new ort.Tensor('float32', data, [1, ...shape]) };
  let output;
  const times = [];
  for (let i = 0; i <= TIMED_RUNS; i++) {
    const start = performance.now();
    const result = await session.run(feeds);
    if (i > 0) times.push(performance.now() - start);
    output = result[session.outputNames[0]].data;
  }
  times.sort((a, b) => a - b);
  return { scores: Float32Array.from(output), ms: times[Math.floor(times.length / 2)] };
}

/** The five highest scores, ties broken by class index (as flexq's metrics do). */
function top5(scores) {
  return Array.from(scores, (score, index) => ({ index, score }))
    .sort((a, b) => b.score - a.score || a.index - b.index)
    .slice(0, 5);
}

function render(name, q, f, floatProvider, labels) {
  const label = (i) => (labels?.[i] ?? `class ${i}`);
  const [tq, tf] = [top5(q.scores), f ? top5(f.scores) : []];
  $('name').textContent = name;
  const { bytes } = window.flexq;
  $('latency').textContent = `int8 QDQ ${q.ms.toFixed(2)} ms, ${kib(bytes.qdq)}` + (f ? ` · float on ${floatProvider} ${f.ms.toFixed(2)} ms, ${kib(bytes.float)} (int8 ${(f.ms / q.ms).toFixed(2)}× float's speed)` : '') +
    ` — median of ${TIMED_RUNS}, onnxruntime-web wasm, ${THREADS} thread${THREADS > 1 ? 's' : ''}`;
  $('top5').replaceChildren(...tq.map((e, k) => {
    const row = document.createElement('tr');
    const cells = [String(k + 1), label(e.index), e.score.toFixed(4), tf[k] ? label(tf[k].index) : '—', tf[k] ? tf[k].score.toFixed(4) : ''];
    cells.forEach((text, c) => {
      const td = document.createElement('td');
      td.textContent = text;
      if (c === 2 || c === 4) td.className = 'score';
      row.append(td);
    });
    return row;
  }));
  $('agreement').textContent = f ? (tq[0].index === tf[0].index ? 'top-1 agrees with the float model' : 'top-1 differs from the float model') : 'no float model in this directory (add model.onnx to compare)';
  $('result').hidden = false;
}

async function main() {
  const config = await (await fetch('/model/web.json')).json();
  const qdq = await openSession(await fetchModel('/model/model.qdq.onnx', 'qdq'), 'wasm');
  const floatBytes = config.hasFloatModel ? await fetchModel('/model/model.onnx', 'float') : null;
  // One float session per provider, opened when first chosen.
  const floatSessions = new Map();
  const floatSession = (provider) => {
    if (!floatSessions.has(provider)) floatSessions.set(provider, openSession(floatBytes, provider));
    return floatSessions.get(provider);
  };
  window.flexq.webgpu = Boolean(floatBytes) && (await hasWebGpuAdapter());
  const select = $('float-provider');
  select.querySelector('option[value=webgpu]').disabled = !window.flexq.webgpu;
  select.disabled = !floatBytes;
  $('provider-note').textContent = !floatBytes ? '' : window.flexq.webgpu ? '' : 'this browser gives the page no WebGPU adapter';
  let lastFile = null;
  const classify = async (file) => {
    lastFile = file;
    const provider = select.value;
    setStatus(`classifying ${file.name}…`);
    const input = await inputTensor(file, config);
    const q = await timedRun(qdq, config.inputName, input, config.inputShape);
    const float = floatBytes ? await floatSession(provider) : null;
    const f = float ? await timedRun(float, float.inputNames[0], input, config.inputShape) : null;
    render(file.name, q, f, provider, config.labels);
    window.flexq.last = { name: file.name, input: Array.from(input), qdq: Array.from(q.scores), float: f ? Array.from(f.scores) : null, floatProvider: f ? provider : null, qdqMs: q.ms, floatMs: f?.ms ?? null, top5: top5(q.scores).map((e) => e.index) };
    setStatus(`input ${config.inputShape.join('×')}, preprocess ${config.preprocess}`);
  };
  const guarded = (file) => classify(file).catch((e) => { window.flexq.error = String(e); setStatus(String(e), true); });
  $('file').addEventListener('change', () => $('file').files[0] && guarded($('file').files[0]));
  select.addEventListener('change', () => lastFile && guarded(lastFile));
  const drop = $('drop');
  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    if (e.dataTransfer.files[0]) guarded(e.dataTransfer.files[0]);
  });
  setStatus(`ready: input ${config.inputShape.join('×')}, preprocess ${config.preprocess}${config.flavour ? `, ${config.flavour} QDQ flavour` : ''}${config.hasFloatModel ? ', float model loaded' : ''}`);
  window.flexq.ready = true;
}

main().catch((e) => { window.flexq.error = String(e); setStatus(`could not start: ${e}`, true); });
