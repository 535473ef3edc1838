// Benchmark: drawing live charts, wsdeck against uPlot (npm `uplot`, in a page of its own), same
// run, same data: two simulators with the same seed stream 4 sensor series at 100 Hz; each page
// shows the last minute of each series in its own chart (6000 points per series), on the same
// phone-sized screen at pixel ratio 2. Then 1 kHz ingest for a long soak: wasm memory and JS heap
// at the start and the end. Run by `cargo xtask bench`; prints tables and writes JSON (argv[2]).
//
// Frame time is the time spent in each requestAnimationFrame callback that drew (both pages draw
// synchronously inside it: wsdeck's chart loop; uPlot through `batch`, which skips its microtask).
// Busy % is the renderer main thread's task time (CDP Performance.getMetrics TaskDuration) over
// wall time, ingest included. Each page is measured while the other one holds still.
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chartSeries, launch, startSim, waitForState } from '../lib/harness.mjs';

const FILL_S = Number(process.env.WSDECK_BENCH_CHART_FILL_S ?? 61);
const MEASURE_S = Number(process.env.WSDECK_BENCH_CHART_S ?? 20);
const SOAK_S = Number(process.env.WSDECK_BENCH_SOAK_S ?? 600);
const out = process.argv[2] ?? 'target/bench/charts.json';
const SERIES = ['battery_v', 'temp_c', 'distance_cm', 'rssi_dbm'];

// Installed before any page script: times every animation-frame callback, and keeps the wasm
// instance's exports (Trunk announces them) so that its memory can be read.
const PROBE = `
  window.__frames = []; window.__measure = false;
  const raf = window.requestAnimationFrame.bind(window);
  window.requestAnimationFrame = (cb) => raf((t) => {
    const s = performance.now();
    cb(t);
    if (window.__measure) window.__frames.push(performance.now() - s);
  });
  addEventListener('TrunkApplicationStarted', (e) => { window.__wasm = e.detail.wasm; });
`;

// The uPlot page: the same 4 charts, 60 s each, fed from its own simulator's WebSocket.
const UPLOT_HTML = `<!doctype html><meta charset=utf-8>
<meta name=viewport content="width=device-width,initial-scale=1">
<link rel=stylesheet href=uPlot.min.css>
<body style="margin:0;padding:27px;background:#101418;color:#e8edf2;font:12px system-ui">
<div id=charts></div><script src=uPlot.iife.min.js></script><script src=bench.js></script>`;
const UPLOT_JS = `
const NAMES = ${JSON.stringify(SERIES)};
const WINDOW_S = 60, CAP = 6000 * 4;
const t = new Float64Array(CAP), v = NAMES.map(() => new Float64Array(CAP));
let start = 0, end = 0, dirty = false;
window.__draw = true;
const plots = NAMES.map((name) => new uPlot({
  width: 336, height: 120, legend: { show: false }, cursor: { show: false },
  scales: { x: { time: false } },
  axes: [{ stroke: '#93a1b0', grid: { stroke: '#2a323c' } }, { stroke: '#93a1b0', grid: { stroke: '#2a323c' }, size: 50 }],
  series: [{}, { label: name, stroke: '#4fb3ff', width: 1.5 }],
}, [[], []], document.getElementById('charts')));
const ws = new WebSocket('ws://' + location.host + '/ws');
window.__got = 0;
ws.onmessage = (e) => {
  window.__got++;
  const m = JSON.parse(e.data);
  if (m.t !== 'tel' || !m.d) return;
  if (end === CAP) { // keep the newest window, move it to the front
    const keep = end - start;
    t.copyWithin(0, start, end); v.forEach((a) => a.copyWithin(0, start, end));
    start = 0; end = keep;
  }
  t[end] = m.ms / 1000;
  NAMES.forEach((n, i) => { v[i][end] = m.d[n]; });
  end++;
  while (t[start] < t[end - 1] - WINDOW_S) start++;
  dirty = true;
};
function frame() {
  if (window.__draw && dirty) {
    dirty = false;
    const x = t.subarray(start, end);
    plots.forEach((u, i) => u.batch(() => u.setData([x, v[i].subarray(start, end)])));
  }
  requestAnimationFrame(frame);
}
requestAnimationFrame(frame);
`;

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function taskSeconds(cdp) {
  const { metrics } = await cdp.send('Performance.getMetrics');
  return metrics.find((m) => m.name === 'TaskDuration').value;
}

/** Frame times and busy share of `page` over MEASURE_S seconds. */
async function measure(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  await page.evaluate(() => { window.__frames.length = 0; window.__measure = true; });
  const [task0, wall0] = [await taskSeconds(cdp), Date.now()];
  await sleep(MEASURE_S * 1000);
  const [task1, wall1] = [await taskSeconds(cdp), Date.now()];
  const all = await page.evaluate(() => { window.__measure = false; return window.__frames; });
  // Frames that drew: an idle callback (nothing changed) takes a few microseconds.
  const drew = all.filter((d) => d > 0.05).sort((a, b) => a - b);
  await cdp.detach();
  return {
    frames: drew.length,
    p50_ms: percentile(drew, 50),
    p95_ms: percentile(drew, 95),
    max_ms: drew[drew.length - 1],
    busy_pct: ((task1 - task0) / ((wall1 - wall0) / 1000)) * 100,
  };
}

async function memory(page, cdp) {
  await cdp.send('HeapProfiler.collectGarbage');
  const { metrics } = await cdp.send('Performance.getMetrics');
  const heap = metrics.find((m) => m.name === 'JSHeapUsedSize').value;
  const wasm = await page.evaluate(() => window.__wasm?.memory?.buffer.byteLength ?? NaN);
  return { wasm_bytes: wasm, js_heap_bytes: heap };
}

const require = createRequire(import.meta.url);
const uplotDir = path.dirname(require.resolve('uplot/dist/uPlot.iife.min.js'));
const site = mkdtempSync(path.join(tmpdir(), 'wsdeck-uplot-'));
for (const f of ['uPlot.iife.min.js', 'uPlot.min.css']) cpSync(path.join(uplotDir, f), path.join(site, f));
writeFileSync(path.join(site, 'index.html'), UPLOT_HTML);
writeFileSync(path.join(site, 'bench.js'), UPLOT_JS);

const browser = await launch({ viewport: { width: 390, height: 844 }, colorScheme: 'dark' });
const sims = [];
const result = { fill_s: FILL_S, measure_s: MEASURE_S, soak_s: SOAK_S };
try {
  // The uPlot page, like many hand-written pages, sends nothing: without --silent-close-ms 0 the
  // simulator closes its socket after 10 s and it has nothing left to draw (as from 2026-12-01
  // to 2026-12-03, when uPlot read ~3 % busy). Both simulators run with the same flags.
  const simArgs = ['--rate', '100', '--seed', '7', '--name', 'Bench', '--silent-close-ms', '0'];
  const ours = await startSim({ args: simArgs });
  const theirs = await startSim({ args: [...simArgs, '--dist', site] });
  sims.push(ours, theirs);
  await browser.context.addInitScript(PROBE);
  const wsdeck = browser.page;
  // Only the 4 sensor series, as in the uPlot page: the car's series are hidden (remembered per device).
  await wsdeck.goto(ours.url);
  await wsdeck.evaluate(() => localStorage.setItem('wsdeck.charts.layout.Bench',
    ['wheel_l_mps', 'wheel_r_mps', 'x_m', 'y_m', 'heading_deg'].map((n) => `${n}\t*\t1\n`).join('')));
  await wsdeck.goto(`${ours.url}#/charts`);
  await waitForState(wsdeck, 'connected');
  await wsdeck.click('text=1 min');
  const uplot = await browser.context.newPage();
  await uplot.goto(theirs.url);
  console.error(`charts bench: filling 60 s of data (${FILL_S} s)...`);
  await sleep(FILL_S * 1000);
  const shown = (await chartSeries(wsdeck)).map((series) => series.join(' '));
  if (shown.join() !== SERIES.join()) throw new Error(`wsdeck shows ${shown}`);

  await uplot.evaluate(() => { window.__draw = false; });
  await wsdeck.bringToFront();
  result.wsdeck = await measure(wsdeck);
  await wsdeck.click('[data-testid=pause]');
  await uplot.evaluate(() => { window.__draw = true; });
  await uplot.bringToFront();
  const got = () => uplot.evaluate(() => window.__got);
  const before = await got();
  result.uplot = await measure(uplot);
  // A baseline that stopped receiving draws nothing and would flatter nobody: refuse it.
  const received = (await got()) - before;
  if (received < MEASURE_S * 50) throw new Error(`the uPlot page received ${received} messages in ${MEASURE_S} s`);
  result.ratio_p95 = result.wsdeck.p95_ms / result.uplot.p95_ms;
  result.ratio_busy = result.wsdeck.busy_pct / result.uplot.busy_pct;
  await uplot.close();
  await theirs.kill();
  await ours.kill();
  sims.length = 0;

  // Soak: 1 kHz for SOAK_S seconds; memory when the buffers have filled (60 s) and at the end.
  const fast = await startSim({ args: ['--rate', '1000', '--seed', '7', '--name', 'Bench'] });
  sims.push(fast);
  await wsdeck.goto(`${fast.url}#/charts`);
  await waitForState(wsdeck, 'connected');
  const cdp = await wsdeck.context().newCDPSession(wsdeck);
  await cdp.send('Performance.enable');
  await sleep(5000);
  const atStart = await memory(wsdeck, cdp);
  const full = Math.min(60, SOAK_S);
  console.error(`charts bench: 1 kHz soak for ${SOAK_S} s...`);
  await sleep((full - 5) * 1000);
  const atFull = await memory(wsdeck, cdp);
  await sleep(Math.max(0, SOAK_S - full) * 1000);
  const atEnd = await memory(wsdeck, cdp);
  const frames = (await fast.state()).telemetry_frames;
  result.soak = {
    rate_hz: 1000,
    telemetry_frames: frames,
    start: atStart,
    buffers_full: atFull,
    end: atEnd,
    wasm_growth_pct: ((atEnd.wasm_bytes - atFull.wasm_bytes) / atFull.wasm_bytes) * 100,
    js_heap_growth_pct: ((atEnd.js_heap_bytes - atFull.js_heap_bytes) / atFull.js_heap_bytes) * 100,
  };
} finally {
  await browser.close();
  for (const s of sims) await s.kill();
  rmSync(site, { recursive: true, force: true });
}

const ms = (v) => (Number.isFinite(v) ? v.toFixed(2) : '-').padStart(8);
console.log('\nCharts: 4 series x 6000 visible points, 100 Hz ingest, 390x844 at DPR 2');
console.log(`${'page'.padEnd(10)} ${'frames'.padStart(7)} ${'p50 ms'.padStart(8)} ${'p95 ms'.padStart(8)} ${'max ms'.padStart(8)} ${'busy %'.padStart(8)}`);
for (const name of ['wsdeck', 'uplot']) {
  const r = result[name];
  console.log(`${name.padEnd(10)} ${String(r.frames).padStart(7)} ${ms(r.p50_ms)} ${ms(r.p95_ms)} ${ms(r.max_ms)} ${ms(r.busy_pct)}`);
}
console.log(`wsdeck/uPlot: p95 ${result.ratio_p95.toFixed(2)}, busy ${result.ratio_busy.toFixed(2)}   (goal: p95 <= 4 ms, ratio <= 1.0)`);
const mib = (b) => (b / 1048576).toFixed(1).padStart(8);
const s = result.soak;
console.log(`\nSoak: 1 kHz for ${SOAK_S} s (${s.telemetry_frames} frames sent)`);
console.log(`${'memory'.padEnd(10)} ${'start'.padStart(8)} ${'60 s'.padStart(8)} ${'end'.padStart(8)} ${'growth'.padStart(8)}   (MiB; growth from 60 s, buffers full)`);
console.log(`${'wasm'.padEnd(10)} ${mib(s.start.wasm_bytes)} ${mib(s.buffers_full.wasm_bytes)} ${mib(s.end.wasm_bytes)} ${s.wasm_growth_pct.toFixed(1).padStart(7)}%`);
console.log(`${'JS heap'.padEnd(10)} ${mib(s.start.js_heap_bytes)} ${mib(s.buffers_full.js_heap_bytes)} ${mib(s.end.js_heap_bytes)} ${s.js_heap_growth_pct.toFixed(1).padStart(7)}%   (goal: flat within 5 %)`);
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify(result, null, 2));
console.log(`\nwrote ${out}`);
