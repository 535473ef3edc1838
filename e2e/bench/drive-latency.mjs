// Benchmark: how long from a touch event to the drive frame leaving the page, and from lifting the
// finger to the stop frame. Measured in headless Chromium against wsdeck-sim, for wsdeck and, in the
// same run, for a baseline: the minimal hand-written page a maker would write (pointer handler ->
// JSON -> ws.send), so that the ratio says what wsdeck's safety logic and framework cost.
// Run by `cargo xtask bench`; prints a table and writes JSON (path in argv[2]).
import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { armed, centre, launch, startSim, touchscreen, until } from '../lib/harness.mjs';

const MOVES = Number(process.env.WSDECK_BENCH_MOVES ?? 300);
const RELEASES = Number(process.env.WSDECK_BENCH_RELEASES ?? 100);
const out = process.argv[2] ?? 'target/bench/drive-latency.json';

// Installed before any page script: timestamps every frame the page sends and every input event.
const PROBE = `
  window.__sent = []; window.__input = [];
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    window.__sent.push({ t: performance.now(), data: String(data) });
    return send.call(this, data);
  };
  // t: when the event reached the page's JavaScript (what the app controls); created: the event's
  // own timestamp (includes the browser's input routing and rAF alignment of pointermove).
  for (const type of ['pointermove', 'pointerup']) {
    window.addEventListener(type, (e) => window.__input.push({ type, t: performance.now(), created: e.timeStamp }), true);
  }
`;

const BASELINE = (wsUrl) => `<!doctype html><meta name=viewport content="width=device-width">
<script>${PROBE}</script>
<style>#pad{width:300px;height:300px;margin:60px auto;border-radius:50%;background:#ccc;touch-action:none}</style>
<div id=pad></div><script>
  const ws = new WebSocket(${JSON.stringify(wsUrl)});
  let seq = 0;
  const pad = document.getElementById('pad');
  const pos = (e) => { const r = pad.getBoundingClientRect();
    return [Math.round(((e.clientX - r.left) / r.width * 2 - 1) * 1000), Math.round((1 - (e.clientY - r.top) / r.height * 2) * 1000)]; };
  pad.onpointerdown = (e) => pad.setPointerCapture(e.pointerId);
  pad.onpointermove = (e) => { if (!pad.hasPointerCapture(e.pointerId)) return; const [x, y] = pos(e);
    ws.send(JSON.stringify({ t: 'drive', seq: ++seq, x, y, l: y + x, r: y - x })); };
  pad.onpointerup = () => ws.send(JSON.stringify({ t: 'stop', seq: ++seq }));
  window.ready = new Promise((r) => (ws.onopen = r));
</script>`;

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function stats(values) {
  const s = [...values].sort((a, b) => a - b);
  return { n: s.length, p50: percentile(s, 50), p99: percentile(s, 99), max: s[s.length - 1] };
}

/** Pairs each input event of `type` with the first frame matching `kind` sent after it:
 * [from dispatch, from the event's creation]. */
async function latencies(page, type, kind) {
  const { input, sent } = await page.evaluate(() => ({ input: window.__input, sent: window.__sent }));
  const frames = sent.filter((f) => kind.test(f.data));
  const dispatch = [];
  const created = [];
  let j = 0;
  for (const ev of input.filter((e) => e.type === type)) {
    while (j < frames.length && frames[j].t < ev.t) j++;
    if (j < frames.length) {
      dispatch.push(frames[j].t - ev.t);
      created.push(frames[j].t - ev.created);
    }
  }
  await page.evaluate(() => { window.__input.length = 0; window.__sent.length = 0; });
  return [dispatch, created];
}

/** Drives the pad: MOVES moves 40 ms apart (slower than the send rate, so none is merged), then
 * RELEASES press-move-lift cycles. */
async function measure(page, padSelector) {
  const touch = await touchscreen(page);
  const pad = await centre(page, padSelector);
  await touch.press(1, pad);
  for (let i = 0; i < MOVES; i++) {
    const a = (i / 20) * Math.PI;
    await touch.move(1, { x: pad.x + Math.cos(a) * pad.r * 0.6, y: pad.y - Math.abs(Math.sin(a)) * pad.r * 0.6 - 20 });
    await page.waitForTimeout(40);
  }
  await touch.lift(1);
  await page.waitForTimeout(100);
  const [move, moveCreated] = await latencies(page, 'pointermove', /"t":"drive"/);
  for (let i = 0; i < RELEASES; i++) {
    await touch.press(1, pad);
    await touch.move(1, { x: pad.x, y: pad.y - pad.r * 0.6 });
    await page.waitForTimeout(60);
    await touch.lift(1);
    await page.waitForTimeout(60);
  }
  const [release, releaseCreated] = await latencies(page, 'pointerup', /"t":"stop"/);
  return {
    move: stats(move),
    release: stats(release),
    from_event_timestamp: { move: stats(moveCreated), release: stats(releaseCreated) },
  };
}

const device = await startSim({ args: ['--rate', '20', '--watchdog-ms', '60000'] });
const browser = await launch();
let results;
try {
  const page = browser.page;
  await page.addInitScript(PROBE);
  await armed(page, device);
  const wsdeck = await measure(page, '.pad');
  await page.click('[data-testid=arm]');
  await until('the lease to be free', async () => (await device.car()).driver === null);

  const base = await browser.context.newPage();
  // From the device's own origin, as the device only lets its own pages open the control socket.
  await base.goto(`${device.url}sim/`);
  await base.setContent(BASELINE(device.wsUrl));
  await base.evaluate(() => window.ready);
  const baseline = await measure(base, '#pad');
  results = { wsdeck, baseline, moves: MOVES, releases: RELEASES, chromium: browser.context.browser()?.version() ?? 'headless' };
} finally {
  await browser.close();
  await device.kill();
}

const f = (v) => (Number.isFinite(v) ? v.toFixed(2) : '–');
const ratio = (a, b) => (b > 0 ? a / b : NaN);
const rows = [
  ['input -> drive frame', 'wsdeck', results.wsdeck.move],
  ['input -> drive frame', 'baseline', results.baseline.move],
  ['release -> stop frame', 'wsdeck', results.wsdeck.release],
  ['release -> stop frame', 'baseline', results.baseline.release],
];
console.log('\ndrive latency, ms (touch event dispatched to the page -> WebSocket.send, headless Chromium)');
console.log(`${'measure'.padEnd(24)}${'page'.padEnd(10)}${'n'.padStart(5)}${'p50'.padStart(8)}${'p99'.padStart(8)}${'max'.padStart(8)}`);
for (const [m, p, s] of rows) {
  console.log(`${m.padEnd(24)}${p.padEnd(10)}${String(s.n).padStart(5)}${f(s.p50).padStart(8)}${f(s.p99).padStart(8)}${f(s.max).padStart(8)}`);
}
results.ratio = {
  move_p50: ratio(results.wsdeck.move.p50, results.baseline.move.p50),
  move_p99: ratio(results.wsdeck.move.p99, results.baseline.move.p99),
  release_p99: ratio(results.wsdeck.release.p99, results.baseline.release.p99),
};
results.goals = {
  move_p99_ms: 4, release_p99_ms: 2,
  move_p99_met: results.wsdeck.move.p99 <= 4, release_p99_met: results.wsdeck.release.p99 <= 2,
};
const c = (r) => `${f(r.wsdeck.p50)} / ${f(r.wsdeck.p99)}`;
console.log(`from the event's own timestamp (adds input routing; pointermove is aligned to frames), p50 / p99: ` +
  `wsdeck move ${c({ wsdeck: results.wsdeck.from_event_timestamp.move })}, baseline move ${c({ wsdeck: results.baseline.from_event_timestamp.move })}, ` +
  `wsdeck release ${c({ wsdeck: results.wsdeck.from_event_timestamp.release })}, baseline release ${c({ wsdeck: results.baseline.from_event_timestamp.release })}`);
console.log(`ratio wsdeck/baseline: move p50 ${f(results.ratio.move_p50)}, move p99 ${f(results.ratio.move_p99)}, release p99 ${f(results.ratio.release_p99)}`);
console.log(`goals: input->frame p99 <= 4 ms ${results.goals.move_p99_met ? 'met' : 'NOT met'}; release->stop p99 <= 2 ms ${results.goals.release_p99_met ? 'met' : 'NOT met'}`);
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify(results, null, 2));
console.log(`wrote ${out}`);
