// The fault scenarios and the invariants checked in each, shared by e2e/tests/faults.test.mjs (a
// fast subset) and e2e/bench/faults.mjs (the whole matrix, many runs). A run puts the app behind
// the fault proxy (e2e/lib/proxy.mjs), drives the simulated car with a finger on the pad (or stays
// idle), applies one fault, and returns the violations it saw. See docs/RELIABILITY.md.
import { centre, freePort, startSim, touchscreen, until, waitForState } from './harness.mjs';
import { hostile } from './hostile.mjs';
import { forge, startProxy } from './proxy.mjs';

/** The invariants' thresholds are the spec; the slack on top is for a loaded CI machine (2 shared
 * cores running Chromium, the simulator and the proxy) and for sampling the simulator over HTTP. */
export const LIMITS = {
  /** The app shows a lost link within this long (3 s dead-link rule + 0.5 s). */
  detectMs: 3500,
  /** ...and is connected again within this long after the link is back. */
  reconnectMs: 1000,
};
export const SLACK = { detectMs: 250, reconnectMs: 250, watchdogMs: 60 };

/** Installed before the app's scripts: every status-bar state with its time, every drive/stop
 * frame sent, and the wasm instance's exports (for its memory). */
export const PROBE = `
  window.__states = [];
  window.__sent = [];
  addEventListener('TrunkApplicationStarted', (e) => { window.__wasm = e.detail.wasm; });
  new MutationObserver(() => {
    const s = document.querySelector('[data-testid=status]')?.dataset.state;
    const last = window.__states[window.__states.length - 1];
    if (s && s !== last?.s) window.__states.push({ t: Date.now(), s });
  }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-state'] });
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    const m = /^\\{"t":"(drive|stop)"/.exec(String(data));
    if (m) window.__sent.push({ t: Date.now(), kind: m[1] });
    return send.call(this, data);
  };
`;

/** Console errors that are the network's doing, not the app's: Chromium logs every failed
 * WebSocket (refused, reset, a protocol violation by the device) as an error. */
const NETWORK_NOISE = /^WebSocket connection to '.*' failed|^Failed to load resource/;

/** Collects what invariant 3 forbids: uncaught errors, panics, and any other console error. */
export function watchConsole(page) {
  const errors = [];
  page.on('pageerror', (e) => errors.push(`uncaught: ${e}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !NETWORK_NOISE.test(m.text())) errors.push(`console: ${m.text()}`);
  });
  return errors;
}

const wait = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Each fault: `linkDown` says whether the link is truly lost (so the app must say so), `apply`
 * does it and returns `{ recovery }`: when the link is usable again (ms since the epoch), or
 * 'detected' when the app must get out by itself (its close is the recovery).
 */
export const SCENARIOS = {
  latency: {
    what: '150 ms latency + 0-100 ms jitter (seeded), both ways',
    linkDown: false,
    async apply(w) {
      w.proxy.set({ latency: 150, jitter: 100 });
      await wait(1500);
      return { liftDuring: true };
    },
  },
  bandwidth: {
    what: '4 KB/s both ways, telemetry at 50 Hz (~11 KB/s): a congested link',
    linkDown: false,
    simArgs: ['--rate', '50'],
    async apply(w) {
      w.proxy.set({ bandwidth: 4000 });
      await wait(2000);
      return { liftDuring: true };
    },
  },
  'stall-short': {
    what: 'half-open for 1.5 s (under the 3 s dead-link rule): frames lost, nothing closed',
    linkDown: false,
    async apply(w) {
      w.proxy.stall();
      await wait(1500);
      w.proxy.resume();
      await wait(500);
      return { liftDuring: true };
    },
  },
  stall: {
    what: 'half-open for 4 s: frames lost both ways, nothing closed, new connections hang',
    linkDown: true,
    async apply(w) {
      w.proxy.stall();
      await wait(4000);
      return { recovery: w.proxy.resume() };
    },
  },
  reset: {
    what: 'abrupt close: RST both ways',
    linkDown: true,
    async apply(w) {
      return { recovery: w.proxy.reset() };
    },
  },
  restart: {
    what: 'the simulator is killed (SIGKILL) and restarted on the same port 300 ms later',
    linkDown: true,
    async apply(w) {
      await w.device.kill();
      await wait(300);
      await w.restart();
      return { recovery: w.device.listeningAt };
    },
  },
  garbage: {
    what: 'a text frame that is not JSON (ignored: not telemetry), and truncated JSON (malformed)',
    linkDown: false,
    expect: { malformed: 1, ignored: 1 },
    async apply(w) {
      w.proxy.inject(forge.garbage());
      await wait(300);
      return { liftDuring: true };
    },
  },
  binary: {
    what: 'a binary frame',
    linkDown: false,
    async apply(w) {
      w.proxy.inject(forge.binary());
      await wait(300);
      return { liftDuring: true };
    },
  },
  fragmented: {
    what: 'a telemetry message in three fragments with a ping between them',
    linkDown: false,
    expectTile: 'frag_v',
    async apply(w) {
      w.proxy.inject(forge.fragmented());
      await wait(300);
      return { liftDuring: true };
    },
  },
  oversized: {
    what: 'a 1 MiB text frame (limit 64 KiB)',
    linkDown: false,
    expect: { oversized: 1 },
    async apply(w) {
      w.proxy.inject(forge.oversized());
      await wait(500);
      return { liftDuring: true };
    },
  },
  truncated: {
    what: 'a frame header promising 32 KiB followed by 10 bytes: the browser waits forever',
    linkDown: true,
    async apply(w) {
      w.proxy.inject(forge.truncated());
      return { recovery: 'detected' };
    },
  },
  invalid: {
    what: 'a frame with a reserved opcode: the browser fails the connection',
    linkDown: true,
    async apply(w) {
      w.proxy.inject(forge.invalid());
      return { recovery: Date.now() };
    },
  },
  hostile: {
    what: 'hostile clients on the device: 4 floods of empty continuation frames, 16 squatters (silent WebSockets, request heads a byte at a time) on a device with 24 connection places, and 1.2 s of half-open link meanwhile, so that only the watchdog stops the car',
    linkDown: false,
    simArgs: ['--rate', '20', '--max-connections', '24'],
    async apply(w) {
      const attack = hostile(Number(new URL(w.device.url).port), { floods: 4, squatters: 16, ms: 3500 });
      await wait(800);
      // The app keeps driving and the device hears nothing: its watchdog must stop the car on
      // time, whatever the hostile clients send (issue #13 item 3).
      w.proxy.stall();
      const late = await watchdogLateMs(w.device, 1200);
      w.proxy.resume();
      await wait(600);
      const violations = [];
      if (w.mode === 'drive') {
        const car = await w.device.car();
        if (late === null) violations.push('the watchdog never stopped the car while the device heard nothing');
        else if (late > car.watchdog_ms + SLACK.watchdogMs) violations.push(`the watchdog stopped the car ${late} ms after the last drive frame`);
      }
      return { liftDuring: true, done: attack, violations, watchdogLateMs: late };
    },
  },
  flood: {
    what: 'telemetry flood: 5000 frames/s for 3 s on top of the device\'s 20 Hz',
    linkDown: false,
    async apply(w) {
      const done = w.proxy.flood({ rate: 5000, ms: 3000 });
      await wait(1500);
      return { liftDuring: true, done };
    },
  },
};

/** Watches the device for `ms`: how long after the last drive frame it took its watchdog stopped
 * the car, by the device's own clock (null when it did not stop the car by its watchdog). */
async function watchdogLateMs(device, ms) {
  const start = (await device.state()).uptime_ms;
  const end = Date.now() + ms;
  let late = null;
  while (Date.now() < end) {
    const { car } = await device.state().catch(() => ({ car: { stops: [] } }));
    const stop = car.stops.find((s) => s.reason === 'watchdog' && s.at_ms >= start);
    if (stop && late === null) late = stop.at_ms - car.last_command_ms;
    await wait(20);
  }
  return late;
}

/** Polls /sim/state in the background: the car as the device saw it, with wall-clock times. */
function sampler(world) {
  const samples = [];
  const stops = new Map();
  let running = true;
  const poll = async () => {
    const device = world.device;
    const t0 = Date.now();
    try {
      const res = await fetch(`${device.url}sim/state`);
      const s = await res.json();
      const t1 = Date.now();
      const key = device.listeningAt;
      // Device uptime -> wall clock, from the quickest round trip seen.
      const off = world.offsets.get(key);
      if (!off || t1 - t0 < off.rtt) world.offsets.set(key, { rtt: t1 - t0, offset: (t0 + t1) / 2 - s.uptime_ms });
      const { offset } = world.offsets.get(key);
      samples.push({ t: (t0 + t1) / 2, moving: s.car.moving, sinceCommand: s.uptime_ms - s.car.last_command_ms, watchdog: s.car.watchdog_ms });
      // Two stops can share a millisecond: count repeats so that neither is lost.
      const seen = new Map();
      for (const stop of s.car.stops) {
        const id = `${key}/${stop.at_ms}/${stop.reason}`;
        seen.set(id, (seen.get(id) ?? 0) + 1);
        stops.set(`${id}/${seen.get(id)}`, { t: stop.at_ms + offset, reason: stop.reason });
      }
    } catch {
      // The device is down (a restart): nothing moves on a dead device.
    }
  };
  const loop = (async () => {
    while (running) {
      await poll();
      await wait(20);
    }
  })();
  return {
    samples,
    stops: () => [...stops.values()].sort((a, b) => a.t - b.t),
    /**
     * Ends the sampling with one more look a moment later: a frame the page sent just before
     * (leaving the Drive page sends a stop) must be seen, not lost to the last poll's timing.
     */
    async stop() {
      running = false;
      await loop;
      await wait(100);
      await poll();
    },
  };
}

async function arm(page) {
  await page.click('[data-testid=arm]');
  await page.waitForSelector('[data-testid=drive][data-arming=armed]');
  await page.waitForFunction(() => (document.querySelector('[data-testid=lease]')?.textContent ?? '') === 'You are driving.');
}

/**
 * One run of `name` in `mode` ('drive' or 'idle') on `page`. Returns
 * `{ violations, stopMs, faultStopMs, detectMs, reconnectMs }` (times in ms, null when not
 * applicable). `errors` is the page's watchConsole list.
 */
export async function runScenario(page, errors, name, mode, { seed = 1 } = {}) {
  const sc = SCENARIOS[name];
  const violations = [];
  const fail = (what) => violations.push(what);
  const port = await freePort();
  // The page comes from the simulator, the socket goes to the proxy: the simulator must accept
  // its own page's origin under another Host (the Host is an IP, which it always answers to).
  const simArgs = ['--allow-origin', `http://127.0.0.1:${port}`, '--seed', String(seed), ...(sc.simArgs ?? ['--rate', '20'])];
  const world = { offsets: new Map(), mode };
  try {
    world.device = await startSim({ port, args: simArgs });
  } catch (e) {
    // The machine, not the app: a simulator that cannot start on a loaded runner.
    return { violations: [], setupFailed: e.message.split('\n')[0] };
  }
  world.restart = async () => (world.device = await startSim({ port, args: simArgs }));
  world.proxy = await startProxy({ target: port, seed });
  const sim = sampler(world);
  errors.length = 0;
  const windows = []; // finger-down periods: [start, end]
  const lifts = []; // { t, linkUp }
  const result = { faultStopMs: null, detectMs: null, reconnectMs: null, watchdogTrips: 0 };
  try {
    const hash = mode === 'drive' ? '#/drive' : '#/charts';
    await page.goto(`${world.device.url}?ws=${encodeURIComponent(world.proxy.wsUrl)}${hash}`);
    await waitForState(page, 'connected');
    let touch;
    let pad;
    const press = async (id) => {
      windows.push({ start: Date.now(), end: Infinity });
      await touch.press(id, pad);
      await touch.move(id, { x: pad.x, y: pad.y - pad.r * 0.7 });
      await until('the car to drive', async () => (await world.device.car()).moving, 5000);
    };
    const lift = async (id, linkUp) => {
      // The device may have stopped the car already (its watchdog, on a jittery link) and the app
      // disarmed on that failsafe: then lifting has nothing to stop.
      const armed = (await page.getAttribute('[data-testid=drive]', 'data-arming')) === 'armed';
      const t = Date.now();
      await touch.lift(id);
      windows[windows.length - 1].end = t;
      lifts.push({ t, linkUp: linkUp && armed });
    };
    if (mode === 'drive') {
      await arm(page);
      touch = await touchscreen(page);
      pad = await centre(page, '.pad');
      await press(1);
    } else {
      await wait(300);
    }

    const faultAt = Date.now();
    const applied = await sc.apply(world);
    if (mode === 'drive' && applied.liftDuring) await lift(1, true);
    await applied.done;
    for (const v of applied.violations ?? []) fail(v);
    if (applied.watchdogLateMs != null) result.watchdogLateMs = applied.watchdogLateMs;
    if (sc.linkDown) {
      // From the page's own log of states: a wait that polls could miss a short outage.
      const seen = (want) =>
        page.waitForFunction(
          ([t, want]) => {
            const i = window.__states.findIndex((s) => s.s !== 'connected' && s.t >= t);
            return i >= 0 && (want === 'loss' || window.__states.slice(i).some((s) => s.s === 'connected'));
          },
          [faultAt, want],
          { timeout: 15_000, polling: 50 },
        );
      await seen('loss').catch(() => {});
      await seen('back').catch(() => fail('never reconnected'));
    }
    world.proxy.clear();
    if (mode === 'drive' && !applied.liftDuring) {
      // The finger stayed on the pad through the loss: the car must stay still (the app disarmed
      // and waits for neutral). Then let go, arm again and drive: the link is up, so the stop on
      // lifting must arrive.
      await wait(600);
      await lift(1, false);
      await arm(page);
      await press(2);
      await lift(2, true);
    }
    if (mode === 'drive') {
      await until('the stop after the lift', async () => !(await world.device.car()).moving, 5000).catch(() => {});
    }
    await wait(300);

    // Invariant 3: no error, and the page still handles a click.
    await page.click('a[href="#/device"]', { timeout: 5000 });
    await page.waitForSelector('[data-testid=malformed]', { timeout: 5000 });
    const counters = await page.evaluate(() => ({
      malformed: Number((document.querySelector('[data-testid=malformed]')?.textContent ?? '')),
      oversized: Number((document.querySelector('[data-testid=oversized]')?.textContent ?? '')),
      ignored: Number((document.querySelector('[data-testid=ignored]')?.textContent ?? '')),
    }));
    for (const [k, min] of Object.entries(sc.expect ?? {})) {
      if (!(counters[k] >= min)) fail(`expected ${k} >= ${min}, the app counted ${counters[k]}`);
    }
    if (sc.expectTile) {
      await page.click('a[href="#/charts"]');
      await page.waitForSelector(`.tile[data-series=${sc.expectTile}]`, { timeout: 3000 }).catch(() => fail(`no tile ${sc.expectTile}: the fragmented message was not read`));
    }
    for (const e of errors) fail(e);

    // Invariant 2: the status bar tells the truth, soon enough.
    const states = await page.evaluate(() => window.__states);
    const loss = states.find((s) => s.s !== 'connected' && s.t >= faultAt);
    if (sc.linkDown) {
      if (!loss) fail('the app never showed the link lost');
      else {
        result.detectMs = loss.t - faultAt;
        if (result.detectMs > LIMITS.detectMs + SLACK.detectMs) fail(`showed the loss after ${result.detectMs} ms`);
        const back = states.find((s) => s.s === 'connected' && s.t > loss.t);
        const recovery = applied.recovery === 'detected' ? loss.t : Math.max(applied.recovery, loss.t);
        if (back) {
          result.reconnectMs = back.t - recovery;
          if (result.reconnectMs > LIMITS.reconnectMs + SLACK.reconnectMs) fail(`reconnected ${result.reconnectMs} ms after the link was back`);
        }
      }
    } else if (loss) {
      fail(`the link was up but the app showed "${loss.s}" ${loss.t - faultAt} ms into the fault`);
    }

    // Invariant 1: the car never moves longer than its watchdog after the last intentional drive.
    // A finger-down period ends when it is lifted or when the app shows the link lost (it disarms).
    await sim.stop();
    const lossTimes = states.filter((s) => s.s !== 'connected').map((s) => s.t);
    const grace = (w) => w + world.proxy.stats.maxUpDelayMs + SLACK.watchdogMs;
    const intents = windows.map((w) => ({ start: w.start, end: Math.min(w.end, ...lossTimes.filter((t) => t > w.start)) }));
    for (const s of sim.samples) {
      if (!s.moving) continue;
      if (s.sinceCommand > s.watchdog + SLACK.watchdogMs) fail(`the car moved ${s.sinceCommand} ms after its last command`);
      if (!intents.some((w) => s.t >= w.start && s.t <= w.end + grace(s.watchdog))) {
        fail(`the car moved at ${Math.round(s.t - faultAt)} ms into the fault with no finger driving it`);
        break;
      }
    }
    const sent = await page.evaluate(() => window.__sent);
    // A move dispatched just before the lift may reach the page's script after it (input is
    // aligned to frames), so a period ends for sending at the stop that follows the lift.
    const sendEnd = (w) => (w.end === Infinity ? w.end : Math.max(w.end, sent.find((f) => f.kind === 'stop' && f.t >= w.end - 5)?.t ?? w.end));
    const stray = sent.find((f) => f.kind === 'drive' && !intents.some((w) => f.t >= w.start - 5 && f.t <= sendEnd(w) + 1));
    if (stray) fail(`a drive frame was sent ${stray.t - faultAt} ms into the fault with no finger driving`);

    // Invariant 4: every lift while the link is up reaches the device as a stop.
    const stops = sim.stops();
    const stopMs = [];
    for (const l of lifts.filter((x) => x.linkUp)) {
      const s = stops.find((x) => x.t >= l.t - 5 && /^stop from client/.test(x.reason));
      if (!s) fail('a stop frame was lost: the finger was lifted on a live link and the device never heard');
      else stopMs.push(s.t - l.t);
    }
    // Every stop frame the app sent while the link was up reached the device.
    const up = (t) => {
      const last = states.filter((x) => x.t <= t).pop();
      return last?.s === 'connected' && !states.some((x) => x.s !== 'connected' && x.t > t && x.t < t + 1000);
    };
    const sentStops = sent.filter((f) => f.kind === 'stop' && f.t >= faultAt - 2000 && up(f.t)).length;
    const gotStops = stops.filter((x) => x.t >= faultAt - 2005 && /^stop from client/.test(x.reason)).length;
    if (process.env.WSDECK_FAULTS_DEBUG && gotStops < sentStops) console.log(JSON.stringify({ faultAt, states, sent: sent.filter((f) => f.kind === 'stop'), stops, lifts }));
    if (name !== 'restart' && gotStops < sentStops) fail(`the app sent ${sentStops} stop frames on a live link, the device got ${gotStops}`);
    // A held finger on a live link should not trip the watchdog; when it does the car stops (safe),
    // which is counted, not failed.
    result.watchdogTrips = stops.filter((x) => x.reason === 'watchdog' && intents.some((w) => x.t > w.start && x.t < w.end) && up(x.t)).length;
    if (mode === 'drive' && sc.linkDown && name !== 'restart') {
      const s = stops.find((x) => x.t >= faultAt - 5);
      if (s) result.faultStopMs = s.t - faultAt;
    }
    result.stopMs = stopMs.length ? Math.max(...stopMs) : null;
  } catch (e) {
    fail(`run failed: ${e.message.split('\n')[0]}`);
  } finally {
    await sim.stop();
    await world.proxy.close();
    await world.device.kill();
  }
  return { ...result, violations };
}

/** The simulator's series: a pre-fill floods these so that the app's history is full. */
const SIM_SERIES = ['battery_v', 'temp_c', 'distance_cm', 'rssi_dbm', 'wheel_l_mps', 'wheel_r_mps', 'x_m', 'y_m', 'heading_deg'];

/** What the page holds, after a forced garbage collection: wasm linear memory, the wasm-bindgen
 * table of JS objects held from Rust, the JS heap, DOM nodes and event listeners. */
export async function measure(page, cdp) {
  await cdp.send('HeapProfiler.collectGarbage');
  await cdp.send('HeapProfiler.collectGarbage');
  const { metrics } = await cdp.send('Performance.getMetrics');
  const m = Object.fromEntries(metrics.map((x) => [x.name, x.value]));
  const wasm = await page.evaluate(() => ({
    memory: window.__wasm?.memory?.buffer.byteLength ?? null,
    externrefs: window.__wasm?.__wbindgen_externrefs?.length ?? null,
  }));
  return {
    wasmMemory: wasm.memory,
    externrefs: wasm.externrefs,
    jsHeapUsed: m.JSHeapUsedSize,
    nodes: m.Nodes,
    listeners: m.JSEventListeners,
  };
}

/** "Flat": the end is within 5 % of the start, or within a small absolute slack (a page of wasm
 * memory grows by 64 KiB; the JS heap moves by a few hundred KB between two collections). */
export const FLAT = {
  wasmMemory: { pct: 5, abs: 1024 * 1024 },
  externrefs: { pct: 5, abs: 32 },
  jsHeapUsed: { pct: 5, abs: 512 * 1024 },
  nodes: { pct: 5, abs: 50 },
  listeners: { pct: 5, abs: 10 },
};

/** The measures that grew more than FLAT allows, as sentences. */
export function growth(start, end) {
  const out = [];
  for (const [k, { pct, abs }] of Object.entries(FLAT)) {
    if (start[k] == null || end[k] == null) {
      out.push(`${k} could not be measured`);
      continue;
    }
    const grew = end[k] - start[k];
    if (grew > abs && grew > (start[k] * pct) / 100) out.push(`${k} grew from ${start[k]} to ${end[k]}`);
  }
  return out;
}

/**
 * Soak: the device streams at 1 kHz and the proxy resets the link every `resetEveryMs` (seeded
 * jitter of ±25 %) for `seconds`. The app's history is filled first (by a flood of the device's own
 * series), so that its ring buffers are at their full size before the first measure. Returns
 * `{ start, end, reconnects, reconnectMs, errors, samples }`.
 */
export async function soak(page, errors, { seconds = 60, resetEveryMs = 2500, seed = 1, onProgress } = {}) {
  const port = await freePort();
  const device = await startSim({ port, args: ['--allow-origin', `http://127.0.0.1:${port}`, '--rate', '1000', '--seed', String(seed)] });
  const proxy = await startProxy({ target: port, seed });
  const cdp = await page.context().newCDPSession(page);
  const random = (await import('./proxy.mjs')).prng(seed);
  errors.length = 0;
  try {
    await cdp.send('Performance.enable');
    await page.goto(`${device.url}?ws=${encodeURIComponent(proxy.wsUrl)}#/charts`);
    await waitForState(page, 'connected');
    // 60 000 samples a series fill the history's rings (src/chart/ring.rs).
    const flooded = await proxy.flood({ rate: 20_000, ms: 4000, series: SIM_SERIES });
    // Until the app has read them all (the Device page counts frames; the hash keeps the app).
    await page.evaluate(() => (location.hash = '#/device'));
    await page.waitForFunction((n) => Number(document.querySelector('[data-testid=frames]')?.textContent) >= n, flooded, { timeout: 60_000, polling: 200 });
    await page.evaluate(() => (location.hash = '#/charts'));
    for (let i = 0; i < 2; i++) {
      proxy.reset();
      await waitForState(page, 'connected');
      await wait(500);
    }
    const start = await measure(page, cdp);
    const samples = [{ t: 0, ...start }];
    const reconnectMs = [];
    let reconnects = 0;
    let missed = 0;
    const began = Date.now();
    while (Date.now() - began < seconds * 1000) {
      await wait(resetEveryMs * (0.75 + random() * 0.5));
      const at = proxy.reset();
      const lost = await page
        .waitForFunction((t) => window.__states.some((s) => s.t >= t && s.s !== 'connected'), at, { polling: 20, timeout: 5000 })
        .then(() => true, () => false);
      if (!lost) {
        // Seen once in a 2-minute bench soak under heavy load; counted, and the soak goes on.
        missed++;
        continue;
      }
      await waitForState(page, 'connected', 10_000);
      const back = await page.evaluate((t) => window.__states.find((s) => s.t > t && s.s === 'connected')?.t, at);
      reconnectMs.push(back - at);
      reconnects++;
      // Keep the page's own log short: it is part of what is measured.
      await page.evaluate(() => window.__states.splice(0, window.__states.length - 2));
      if (reconnects % 20 === 0) {
        const m = await measure(page, cdp);
        samples.push({ t: Date.now() - began, ...m });
        onProgress?.(reconnects, m);
      }
    }
    await wait(500);
    const end = await measure(page, cdp);
    samples.push({ t: Date.now() - began, ...end });
    const frames = (await device.state()).telemetry_frames;
    return { start, end, reconnects, missed, reconnectMs, errors: [...errors], samples, frames, connections: proxy.stats.accepted };
  } finally {
    await cdp.detach().catch(() => {});
    await proxy.close();
    await device.kill();
  }
}
