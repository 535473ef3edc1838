// Benchmark: time to usable over a slow link. The simulator serves the app through the fault proxy
// (e2e/lib/proxy.mjs) capped at 150 KB/s toward the phone, one link for all connections (a
// device's radio), and a fresh browser profile each time (no HTTP cache, no service worker): how
// long from navigation to the first telemetry value on a tile. The baseline, in the same run and
// through the same link: a hand-written minimal page (an HTML file and a script that opens the
// socket and writes the first value), served by the same simulator, as a firmware author's own
// page would be. Run by `cargo xtask bench`; prints a table and writes JSON (argv[2]).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startProxy } from '../lib/proxy.mjs';
import { freePort, launch, startSim } from '../lib/harness.mjs';

const RUNS = Number(process.env.WSDECK_BENCH_SLOW_RUNS ?? 3);
const BYTES_PER_S = Number(process.env.WSDECK_BENCH_SLOW_BPS ?? 150_000);
const out = process.argv[2] ?? 'target/bench/slow-link.json';

// The minimal page: what a tutorial's page does, and no more.
const MINIMAL_HTML = `<!doctype html><html><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>car</title></head>
<body><h1>car</h1><div class="tile" data-series="temp_c">–</div><script src="app.js"></script></body></html>`;
const MINIMAL_JS = `const ws = new WebSocket('ws://' + location.host + '/ws');
ws.onmessage = (e) => {
  const m = JSON.parse(e.data);
  if (m.t === 'tel' && m.d && 'temp_c' in m.d) document.querySelector('.tile').textContent = m.d.temp_c;
};`;

// In every page before its own scripts: the moment a tile first shows a number.
const WATCH = `(() => {
  const seen = () => [...document.querySelectorAll('.tile[data-series]')].some((t) => /\\d/.test(t.textContent));
  new MutationObserver((_, o) => {
    if (!window.__firstValueMs && seen()) { window.__firstValueMs = performance.now(); o.disconnect(); }
  }).observe(document, { subtree: true, childList: true, characterData: true });
})();`;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Navigation -> first tile value (ms) and what was downloaded, for the page `dist` serves. */
async function once(dist) {
  // A free port can be taken again before the simulator binds it (the proxy's own listener, or
  // an earlier run's connection still in TIME_WAIT): then both are started again on new ports.
  let proxy, sim;
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    proxy = await startProxy({ target: port });
    try {
      sim = await startSim({
        port,
        args: ['--rate', '20', '--seed', '7', '--allow-origin', `http://127.0.0.1:${proxy.port}`, ...(dist ? ['--dist', dist] : [])],
      });
      break;
    } catch (e) {
      await proxy.close();
      if (attempt === 3 || !/Address already in use/.test(String(e))) throw e;
    }
  }
  proxy.set({ bandwidth: BYTES_PER_S, shared: true }, 'down');
  const browser = await launch();
  try {
    const page = browser.page;
    await page.addInitScript(WATCH);
    const responses = [];
    page.on('response', (r) => responses.push(r.url()));
    await page.goto(`http://127.0.0.1:${proxy.port}/`, { waitUntil: 'commit' });
    await page.waitForFunction(() => window.__firstValueMs, null, { timeout: 60_000, polling: 50 });
    const ms = await page.evaluate(() => window.__firstValueMs);
    return { ms, requests: responses.length, errors: [...browser.errors] };
  } finally {
    await browser.close();
    await proxy.close();
    await sim.kill();
  }
}

const dir = mkdtempSync(path.join(tmpdir(), 'wsdeck-minimal-'));
writeFileSync(path.join(dir, 'index.html'), MINIMAL_HTML);
writeFileSync(path.join(dir, 'app.js'), MINIMAL_JS);
const result = { bytes_per_s: BYTES_PER_S, runs: RUNS, app: [], minimal: [] };
try {
  console.error(`slow-link bench: ${RUNS} runs of each page at ${BYTES_PER_S / 1000} KB/s...`);
  for (let i = 0; i < RUNS; i++) {
    result.app.push(await once(null));
    result.minimal.push(await once(dir));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const summary = (runs) => ({ median_ms: median(runs.map((r) => r.ms)), requests: median(runs.map((r) => r.requests)) });
result.app_summary = summary(result.app);
result.minimal_summary = summary(result.minimal);
result.ratio = result.app_summary.median_ms / result.minimal_summary.median_ms;

console.log(`\nTime to usable at ${BYTES_PER_S / 1000} KB/s toward the phone (one link), fresh profile, median of ${RUNS}`);
console.log(`${'page'.padEnd(26)} ${'first value ms'.padStart(15)} ${'requests'.padStart(9)}   runs (ms)`);
for (const [name, label] of [['app', 'wsdeck (as shipped)'], ['minimal', 'minimal hand-written page']]) {
  const s = result[`${name}_summary`];
  const runs = result[name].map((r) => r.ms.toFixed(0)).join(', ');
  console.log(`${label.padEnd(26)} ${s.median_ms.toFixed(0).padStart(15)} ${String(s.requests).padStart(9)}   ${runs}`);
}
console.log(`wsdeck / minimal: ${result.ratio.toFixed(2)}`);
const errors = result.app.flatMap((r) => r.errors);
if (errors.length) console.log(`page errors: ${errors.join('; ')}`);
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify(result, null, 2));
console.log(`\nwrote ${out}`);
