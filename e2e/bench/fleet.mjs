// Benchmark (issue #16): 100 simulated devices at 10 Hz through one local mosquitto to one deck in
// headless Chromium, in one run (docs/FLEET.md, "The benchmark"). Run by
// `cargo xtask bench --only fleet`, which writes the broker's config, ACL and passwords the way
// `cargo xtask fleet` does and passes them here; prints a table and writes JSON (argv[2]).
//
// 1. The Fleet page (#/fleet) with every device on the broker: frame time and main-thread busy
//    from a Chromium trace (e2e/lib/frames.mjs, the Controls bench's method), at the start and
//    again after the soak.
// 2. App memory (wasm linear memory, JS heap, DOM nodes, listeners after a forced collection) of
//    each page at the start of the soak and at its end.
// 3. Latency from a device making a telemetry frame to the page's JavaScript getting it, through
//    the broker (the Fleet page, following the devices of the cards in view; the Charts page of one device opened over the
//    broker) against the same simulator connected directly over WebSocket (its Charts page), the
//    baseline, measured at the same time. Every simulator runs with `--unix-ms`: a `tel` frame's
//    `ms` is the Unix time, to the microsecond, at which the device made it, read from the same
//    clock (this machine's) as the page's `performance.timeOrigin + performance.now()`. A probe
//    installed before the app wraps the handler the app sets as `WebSocket.onmessage`: the time
//    it is called is "arrived", the time the app's handler returns is "handled" (the app decoded
//    the frame and took it in). The probe costs nothing until it is armed, which happens after the
//    Fleet page's first trace, and keeps at most 200 000 samples in preallocated arrays.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { analyse, percentile, RAF_LOOP, trace } from '../lib/frames.mjs';
import { kill, launch, portOpen, start, startSim, tileValues, until, waitForState } from '../lib/harness.mjs';

const env = process.env;
const need = (name) => env[name] ?? (() => { throw new Error(`${name} is unset: run this with cargo xtask bench --only fleet`); })();
const SIM = need('WSDECK_SIM');
const MOSQUITTO = env.WSDECK_MOSQUITTO ?? '/usr/sbin/mosquitto';
const CONF = need('WSDECK_FLEET_CONF');
const MQTT_PORT = Number(need('WSDECK_FLEET_MQTT_PORT'));
const WS_PORT = Number(need('WSDECK_FLEET_WS_PORT'));
const APP_USER = env.WSDECK_FLEET_APP_USER ?? 'deck';
const APP_PASSWORD = readFileSync(need('WSDECK_FLEET_APP_PASSWORD_FILE'), 'utf8').trim();
const DEVICE_PASSWORD_FILE = need('WSDECK_FLEET_DEVICE_PASSWORD_FILE');
const DEVICES = Number(env.WSDECK_FLEET_DEVICES ?? 100);
const RATE = Number(env.WSDECK_FLEET_RATE ?? 10);
const SOAK_S = Number(env.WSDECK_BENCH_FLEET_S ?? 600);
const TRACE_S = Number(env.WSDECK_BENCH_FLEET_TRACE_S ?? 15);
const WARM_S = Number(env.WSDECK_BENCH_FLEET_WARM_S ?? 5);
// Latency is sampled in the soak's first minute (at most): 600 frames per device page, ~36 000 on
// the Fleet page.
const LATENCY_S = Math.min(SOAK_S, Number(env.WSDECK_BENCH_FLEET_LATENCY_S ?? 60));
// The Fleet page's list is virtual: it follows the `up` of the devices whose cards are in view
// (src/fleet/roster.rs Grid), counted once they are on line.
let FOLLOWED = 0;
const out = process.argv[2] ?? 'target/bench/fleet.json';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Installed before any page script. Keeps the wasm instance's exports (Trunk announces them) for
// its memory, and wraps every handler set as WebSocket.onmessage (the app sets its handlers so,
// src/connection/socket.rs, src/fleet/page.rs): armed, it stamps each message on arrival and after
// the app's handler, and pairs the stamps with the `ms` of each `tel` frame in it. An MQTT message
// is binary (a PUBLISH packet, or several); its JSON payload is found in the bytes as it is.
const PROBE = `
  addEventListener('TrunkApplicationStarted', (e) => { window.__wasm = e.detail.wasm; });
  (() => {
    const CAP = 200000;
    const L = window.__lat = { on: false, n: 0, messages: 0, sent: new Float64Array(CAP), got: new Float64Array(CAP), done: new Float64Array(CAP) };
    const now = () => performance.timeOrigin + performance.now();
    const text = new TextDecoder();
    const TEL = /"t":"tel","ms":([0-9.]+)/g;
    const own = Object.getOwnPropertyDescriptor(WebSocket.prototype, 'onmessage');
    Object.defineProperty(WebSocket.prototype, 'onmessage', {
      configurable: true,
      enumerable: own.enumerable,
      get() { return this.__appOnMessage ?? null; },
      set(handler) {
        this.__appOnMessage = handler;
        if (typeof handler !== 'function') return own.set.call(this, handler);
        own.set.call(this, function (e) {
          if (!L.on) return handler.call(this, e);
          const got = now();
          const result = handler.call(this, e);
          const done = now();
          L.messages++;
          const s = typeof e.data === 'string' ? e.data : text.decode(e.data);
          for (const m of s.matchAll(TEL)) {
            if (L.n === CAP) break;
            L.sent[L.n] = Number(m[1]); L.got[L.n] = got; L.done[L.n] = done; L.n++;
          }
          return result;
        });
      },
    });
  })();
`;

const procs = [];
/** CPU seconds (user + system) and resident MiB of a process we started, from /proc. */
function usage(proc) {
  try {
    const stat = readFileSync(`/proc/${proc.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpu = (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in USER_HZ (100)
    const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${proc.pid}/status`, 'utf8'))?.[1]) / 1024;
    return { cpu_s: cpu, rss_mib: rss };
  } catch {
    return { cpu_s: NaN, rss_mib: NaN };
  }
}

/** What a page holds after a forced garbage collection. */
async function memory(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  await cdp.send('HeapProfiler.collectGarbage');
  await cdp.send('HeapProfiler.collectGarbage');
  const { metrics } = await cdp.send('Performance.getMetrics');
  await cdp.detach();
  const metric = (name) => metrics.find((m) => m.name === name)?.value ?? NaN;
  const wasm = await page.evaluate(() => window.__wasm?.memory?.buffer.byteLength ?? NaN);
  return { wasm_bytes: wasm, js_heap_bytes: metric('JSHeapUsedSize'), nodes: metric('Nodes'), listeners: metric('JSEventListeners') };
}

/** Arms (or disarms) a page's probe; armed from empty. */
const arm = (page, on) => page.evaluate((on) => { const L = window.__lat; L.on = on; if (on) { L.n = 0; L.messages = 0; } }, on);

/** The probe's samples as latencies in ms, and how the page's two clocks agreed. */
async function drain(page) {
  const r = await page.evaluate(() => {
    const L = window.__lat;
    L.on = false;
    const n = L.n;
    const arrived = [];
    const handled = [];
    for (let i = 0; i < n; i++) {
      arrived.push(L.got[i] - L.sent[i]);
      handled.push(L.done[i] - L.sent[i]);
    }
    L.n = 0;
    // performance.now() runs on a monotonic clock from timeOrigin; Date.now() on the wall clock.
    // Their difference moving would move every latency by as much.
    const drift = Date.now() - (performance.timeOrigin + performance.now());
    return { arrived, handled, messages: L.messages, drift };
  });
  return r;
}

function stats(values) {
  const s = [...values].sort((a, b) => a - b);
  return { n: s.length, p50_ms: percentile(s, 50), p99_ms: percentile(s, 99), max_ms: s.at(-1), min_ms: s[0] };
}

/** The Fleet page's trace: frames and busy, and what it received a second. */
async function fleetFrames(page) {
  await page.bringToFront();
  const { events, perSecond } = await trace(page, TRACE_S);
  const r = analyse(events, TRACE_S);
  r.ws_messages_per_s = Object.values(perSecond).reduce((a, b) => a + b, 0);
  return r;
}

const deviceIds = Array.from({ length: DEVICES }, (_, i) => `sim-${String(i + 1).padStart(2, '0')}`);
const onlineCards = (page) => page.$$eval('[data-testid=fleet-card][data-online=online]', (c) => c.length);
const result = { devices: DEVICES, rate_hz: RATE, followed: 0, soak_s: SOAK_S, trace_s: TRACE_S, latency_s: LATENCY_S };
let browser;
const sims = [];
try {
  const mosquitto = start(procs, MOSQUITTO, ['-c', CONF]);
  await until('mosquitto to listen', async () => (await portOpen(WS_PORT)) && portOpen(MQTT_PORT), 5000).catch((e) => {
    throw new Error(`${e.message}\n${mosquitto.output}`);
  });
  const fleet = start(procs, SIM, [
    '--mqtt', `127.0.0.1:${MQTT_PORT}`, '--fleet', String(DEVICES), '--mqtt-password-file', DEVICE_PASSWORD_FILE,
    '--rate', String(RATE), '--unix-ms',
  ]);
  // The deck is served by a quiet simulator (`cargo xtask fleet` does the same); the baseline is
  // the same simulator, one device at the same rate, directly over WebSocket.
  const web = await startSim({ args: ['--rate', '0', '--name', 'deck'] });
  const direct = await startSim({ args: ['--rate', String(RATE), '--unix-ms', '--name', 'direct'] });
  sims.push(web, direct);

  browser = await launch();
  await browser.context.addInitScript(PROBE);
  await browser.context.addInitScript(RAF_LOOP);
  const broker = `ws://127.0.0.1:${WS_PORT}/mqtt`;
  // The Fleet page at 127.0.0.1, the device over the broker at localhost: two origins, so two
  // localStorages (the device page's address is the broker's, the Fleet page's stays its own).
  const open = async (page, origin, hash, device) => {
    await page.goto(`${origin}#/settings`);
    await page.evaluate(({ url, user, password, device }) => {
      localStorage.setItem('wsdeck.broker.url', url);
      localStorage.setItem('wsdeck.broker.user', user);
      localStorage.setItem('wsdeck.broker.password', password);
      if (device) localStorage.setItem('wsdeck.ws_url', `${url}#${device}`);
    }, { url: broker, user: APP_USER, password: APP_PASSWORD, device });
    await page.goto(`${origin}${hash}`);
    await page.reload();
  };
  browser.context.on('page', (page) => page.on('pageerror', (e) => browser.errors.push(String(e))));
  const fleetPage = browser.page;
  await open(fleetPage, web.url, '#/fleet');
  console.error(`fleet bench: waiting for ${DEVICES} devices on the Fleet page...`);
  await until(`${DEVICES} devices, the cards in view on line`, async () => {
    const count = await fleetPage.textContent('[data-testid=fleet-count]').catch(() => '');
    const cards = await fleetPage.$$eval('[data-testid=fleet-card]', (c) => c.length);
    FOLLOWED = cards;
    return count === `${DEVICES} devices` && cards > 0 && (await onlineCards(fleetPage)) === cards;
  }, 30_000).catch(async (e) => {
    const status = await fleetPage.textContent('[data-testid=fleet-status]').catch(() => '(no status)');
    throw new Error(`${e.message}; page says "${status}"\n${fleet.output}\n${mosquitto.output}`);
  });
  result.followed = FOLLOWED;
  await sleep(WARM_S * 1000);
  console.error(`fleet bench: Fleet page trace (${TRACE_S} s)...`);
  result.fleet_page = { start: await fleetFrames(fleetPage) };

  // The device pages: sim-01's Charts over the broker, and the direct simulator's Charts.
  const overBroker = await browser.context.newPage();
  await open(overBroker, `http://localhost:${web.port}/`, '#/charts', deviceIds[0]);
  await waitForState(overBroker, 'connected', 15_000);
  const directPage = await browser.context.newPage();
  await directPage.goto(`${direct.url}#/charts`);
  await waitForState(directPage, 'connected', 15_000);
  const pages = { fleet: fleetPage, broker: overBroker, direct: directPage };
  for (const page of [overBroker, directPage]) {
    await until('telemetry on the page', async () => Number.isFinite(Number((await tileValues(page)).battery_v)), 15_000);
  }
  await sleep(WARM_S * 1000);

  const before = { broker: usage(mosquitto), fleet: usage(fleet), at: Date.now() };
  result.memory = { start: {} };
  for (const [name, page] of Object.entries(pages)) result.memory.start[name] = await memory(page);
  const soakStart = Date.now();
  console.error(`fleet bench: latency for ${LATENCY_S} s, soak ${SOAK_S} s in all...`);
  for (const page of Object.values(pages)) await arm(page, true);
  await sleep(LATENCY_S * 1000);
  result.latency = {};
  for (const [name, page] of Object.entries(pages)) {
    const { arrived, handled, messages, drift } = await drain(page);
    result.latency[name] = { arrived: stats(arrived), handled: stats(handled), messages_per_s: messages / LATENCY_S, tel_per_s: arrived.length / LATENCY_S, clock_offset_ms: drift };
  }
  await sleep(Math.max(0, SOAK_S * 1000 - (Date.now() - soakStart)));
  result.memory.end = {};
  for (const [name, page] of Object.entries(pages)) result.memory.end[name] = await memory(page);
  const after = { broker: usage(mosquitto), fleet: usage(fleet), at: Date.now() };
  const wall = (after.at - before.at) / 1000;
  result.processes = Object.fromEntries(['broker', 'fleet'].map((p) => [p, {
    cpu_pct: ((after[p].cpu_s - before[p].cpu_s) / wall) * 100, rss_mib_start: before[p].rss_mib, rss_mib_end: after[p].rss_mib,
  }]));
  // The Fleet page again after the soak, alone as at the start.
  await overBroker.close();
  await directPage.close();
  console.error(`fleet bench: Fleet page trace after the soak (${TRACE_S} s)...`);
  result.fleet_page.end = await fleetFrames(fleetPage);
  result.fleet_page.cards_online = await onlineCards(fleetPage);
  result.errors = browser.errors;
  result.chromium = browser.context.browser()?.version() ?? 'headless';
} finally {
  await browser?.close();
  for (const s of sims) await s.kill();
  // The fleet first, then the broker (it would publish each device's last will to no one).
  for (const p of procs) await kill(p);
}

const num = (v, w = 8, digits = 2) => (Number.isFinite(v) ? v.toFixed(digits) : '-').padStart(w);
const mib = (b) => num(b / 1048576, 8, 1);
console.log(`\nFleet: ${DEVICES} simulated devices at ${RATE} Hz through one mosquitto, one deck in headless Chromium (390x844, DPR 2)`);
console.log(`\nFleet page (#/fleet, ${FOLLOWED} of ${DEVICES} cards followed; Chromium trace of the main thread, ${TRACE_S} s each)`);
console.log(`${'when'.padEnd(14)} ${'msg/s'.padStart(6)} ${'frames'.padStart(7)} ${'p50 ms'.padStart(8)} ${'p95 ms'.padStart(8)} ${'max ms'.padStart(8)} ${'render95'.padStart(8)} ${'busy %'.padStart(8)} ${'task max'.padStart(8)}`);
for (const [when, r] of Object.entries(result.fleet_page).filter(([, r]) => typeof r === 'object')) {
  console.log(`${(when === 'start' ? 'start' : `after ${SOAK_S} s`).padEnd(14)} ${num(r.ws_messages_per_s, 6, 0)} ${String(r.frames).padStart(7)} ${num(r.p50_ms)} ${num(r.p95_ms)} ${num(r.max_ms)} ${num(r.render_p95_ms)} ${num(r.busy_pct)} ${num(r.longest_task_ms)}`);
}
const labels = { fleet: `Fleet page, broker (${FOLLOWED} devices)`, broker: 'Charts, sim-01 over the broker', direct: 'Charts, direct WebSocket (baseline)' };
console.log(`\nLatency, device makes a tel frame -> the page's onmessage (arrived) / the app's handler returned (handled), ms, first ${LATENCY_S} s of the soak`);
console.log(`${'page'.padEnd(38)} ${'tel/s'.padStart(6)} ${'n'.padStart(7)} ${'p50'.padStart(7)} ${'p99'.padStart(7)} ${'max'.padStart(7)} ${'hdl p50'.padStart(8)} ${'hdl p99'.padStart(8)}`);
for (const [name, label] of Object.entries(labels)) {
  const r = result.latency[name];
  console.log(`${label.padEnd(38)} ${num(r.tel_per_s, 6, 0)} ${String(r.arrived.n).padStart(7)} ${num(r.arrived.p50_ms, 7)} ${num(r.arrived.p99_ms, 7)} ${num(r.arrived.max_ms, 7)} ${num(r.handled.p50_ms, 8)} ${num(r.handled.p99_ms, 8)}`);
}
const lat = result.latency;
result.ratio = {
  broker_device_p50: lat.broker.arrived.p50_ms / lat.direct.arrived.p50_ms,
  broker_device_p99: lat.broker.arrived.p99_ms / lat.direct.arrived.p99_ms,
  fleet_page_p50: lat.fleet.arrived.p50_ms / lat.direct.arrived.p50_ms,
  fleet_page_p99: lat.fleet.arrived.p99_ms / lat.direct.arrived.p99_ms,
  fleet_page_p95_end_over_start: result.fleet_page.end.p95_ms / result.fleet_page.start.p95_ms,
};
console.log(`over the broker / direct: device page p50 ${num(result.ratio.broker_device_p50, 0)}, p99 ${num(result.ratio.broker_device_p99, 0)}; Fleet page p50 ${num(result.ratio.fleet_page_p50, 0)}, p99 ${num(result.ratio.fleet_page_p99, 0)}`);
console.log(`clock check (Date.now() - timeOrigin - performance.now(), ms): ${Object.entries(lat).map(([n, r]) => `${n} ${num(r.clock_offset_ms, 0, 3)}`).join(', ')}`);
console.log(`\nMemory after a forced GC, MiB: start -> after ${SOAK_S} s`);
console.log(`${'page'.padEnd(38)} ${'wasm'.padStart(8)} ${'->'.padStart(3)} ${'wasm'.padStart(8)} ${'JS heap'.padStart(8)} ${'->'.padStart(3)} ${'JS heap'.padStart(8)} ${'nodes'.padStart(6)} ${'->'.padStart(3)} ${'nodes'.padStart(6)}`);
for (const [name, label] of Object.entries(labels)) {
  const [a, b] = [result.memory.start[name], result.memory.end[name]];
  console.log(`${label.padEnd(38)} ${mib(a.wasm_bytes)} ${'->'.padStart(3)} ${mib(b.wasm_bytes)} ${mib(a.js_heap_bytes)} ${'->'.padStart(3)} ${mib(b.js_heap_bytes)} ${num(a.nodes, 6, 0)} ${'->'.padStart(3)} ${num(b.nodes, 6, 0)}`);
}
const pr = result.processes;
console.log(`\nmosquitto: ${num(pr.broker.cpu_pct, 0, 1)} % of a core, ${num(pr.broker.rss_mib_end, 0, 1)} MiB resident; the simulated fleet (debug build): ${num(pr.fleet.cpu_pct, 0, 1)} % of a core`);
if (result.errors.length) console.log(`page errors: ${result.errors.join('; ')}`);
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify(result, null, 2));
console.log(`\nwrote ${out}`);
