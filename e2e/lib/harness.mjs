// Shared by the end-to-end tests: start the simulator, start Chromium, wait for the app.
// The simulator binary and the built dist/ come from `cargo xtask test` (WSDECK_SIM, WSDECK_DIST).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const SIM = process.env.WSDECK_SIM;
const DIST = process.env.WSDECK_DIST;
const CHROMIUM = process.env.WSDECK_CHROMIUM || '/usr/bin/chromium';
if (!SIM || !DIST) throw new Error('run these tests with `cargo xtask test` (WSDECK_SIM and WSDECK_DIST are unset)');

/** A free TCP port on 127.0.0.1. */
export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Whether something listens on 127.0.0.1:port. */
export function portOpen(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

/**
 * Spawns `cmd` (a broker, a fleet of simulated devices) and adds it to `procs`, for the suite to
 * stop by its PID ([`kill`]); `proc.output` keeps the last 20 000 characters it printed and
 * `proc.exited` resolves when it ends.
 */
export function start(procs, cmd, args) {
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  proc.output = '';
  const keep = (c) => { proc.output = (proc.output + c).slice(-20000); };
  proc.stdout.on('data', keep);
  proc.stderr.on('data', keep);
  proc.exited = new Promise((resolve) => proc.once('exit', resolve));
  procs.push(proc);
  return proc;
}

/** Stops a process [`start`] spawned, and waits for it to be gone. */
export async function kill(proc) {
  if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  await proc.exited;
}

/**
 * Starts wsdeck-sim on 127.0.0.1:port and resolves once it listens.
 * Returns { port, url, wsUrl, listeningAt, stop(), kill(), state(), send(body) }.
 */
export async function startSim({ port, args = [] } = {}) {
  port = port ?? (await freePort());
  const proc = spawn(SIM, ['--bind', `127.0.0.1:${port}`, '--dist', DIST, '--no-qr', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const listeningAt = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`wsdeck-sim did not start:\n${output}`)), 10_000);
    proc.stdout.on('data', (chunk) => {
      output += chunk;
      if (output.includes(`listening on http://127.0.0.1:${port}/`)) {
        clearTimeout(timer);
        resolve(Date.now());
      }
    });
    proc.stderr.on('data', (chunk) => (output += chunk));
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`wsdeck-sim exited with ${code}:\n${output}`));
    });
  });
  const base = `http://127.0.0.1:${port}`;
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  return {
    port,
    url: `${base}/`,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    listeningAt,
    /** SIGKILL, as a device losing power: no close frame, connections reset. */
    async kill() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
    },
    async state() {
      const res = await fetch(`${base}/sim/state`);
      return res.json();
    },
    /** Loses every WebSocket frame, both ways, for `ms` (a WiFi link that drops silently). */
    async stall(ms) {
      const res = await fetch(`${base}/sim/stall?ms=${ms}`, { method: 'POST' });
      if (!res.ok) throw new Error(`stall failed: ${res.status}`);
    },
    /** The simulated car's state. */
    async car() {
      return (await this.state()).car;
    },
    /** Sends `body` (at most 64 KiB), repeated `repeat` times, to every WebSocket client as one frame. */
    async send(body, { binary = false, repeat = 1 } = {}) {
      const res = await fetch(`${base}/sim/send?repeat=${repeat}${binary ? '&binary=1' : ''}`, { method: 'POST', body });
      if (!res.ok) throw new Error(`send failed: ${res.status}`);
    },
  };
}

const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/**
 * Chromium with a phone-sized touch viewport and a fresh profile (`args`: extra Chromium flags).
 * `errors` collects uncaught page errors (a Rust panic shows up here as `unreachable`).
 */
export async function launch({ viewport = { width: 390, height: 844 }, colorScheme = 'light', args = [] } = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'wsdeck-e2e-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_ARGS, ...args],
    viewport,
    colorScheme,
    deviceScaleFactor: 2,
    hasTouch: true,
    isMobile: true,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error' && /panicked|unreachable|RuntimeError/.test(m.text())) errors.push(m.text());
  });
  return {
    context,
    page,
    errors,
    async close() {
      await context.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * One Chromium for a test file, and simulators that are all stopped when the file ends. Pass
 * node:test's `before` and `after`; `defaults` go before each simulator's own flags.
 */
export function suite({ before, after }, defaults = []) {
  const ctx = { browser: null, sims: [] };
  before(async () => {
    ctx.browser = await launch();
  });
  after(async () => {
    await ctx.browser?.close();
    for (const sim of ctx.sims) await sim.kill();
  });
  ctx.sim = async ({ port, args = [] } = {}) => {
    const sim = await startSim({ port, args: [...defaults, ...args] });
    ctx.sims.push(sim);
    return sim;
  };
  return ctx;
}

/** Waits until the status bar shows `state`; returns the time it did. */
export async function waitForState(page, state, timeout = 10_000) {
  await page.waitForFunction(
    (s) => document.querySelector('[data-testid=status]')?.dataset.state === s,
    state,
    { timeout, polling: 10 },
  );
  return Date.now();
}

/** Each tile's number, by series name. */
export async function tileValues(page) {
  return page.$$eval('.tile', (tiles) =>
    Object.fromEntries(tiles.map((t) => [t.dataset.series, t.querySelector('.tile-value .num').textContent])),
  );
}

/**
 * Real multi-touch through the DevTools protocol: press, move and lift fingers by id; moves send
 * every finger still down, as a touch screen does.
 */
/** Two fingers `from` px either side of `at` move apart to `to` px, `step` px at a time, and lift. */
export async function pinchOut(touch, at, { from = 20, to = 100, step = 8 } = {}) {
  await touch.press(1, { x: at.x - from, y: at.y });
  await touch.press(2, { x: at.x + from, y: at.y });
  for (let d = from + step; d <= to; d += step) {
    await touch.move(1, { x: at.x - d, y: at.y });
    await touch.move(2, { x: at.x + d, y: at.y });
  }
  await touch.lift(1);
  await touch.lift(2);
}

export async function touchscreen(page) {
  const cdp = await page.context().newCDPSession(page);
  const down = new Map();
  const points = () => [...down].map(([id, p]) => ({ id, x: p.x, y: p.y, radiusX: 8, radiusY: 8, force: 1 }));
  return {
    async press(id, p) {
      down.set(id, p);
      await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: points() });
    },
    async move(id, p) {
      down.set(id, p);
      await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: points() });
    },
    /**
     * Lifts one finger; the others stay down. The last finger up ends the gesture with a touchEnd
     * that lists no point, as CDP wants (one that lists it can leave Chromium thinking a finger
     * is still down, and a later tap makes no click); with fingers left, the touchEnd names the
     * one that ends.
     */
    async lift(id) {
      const p = down.get(id);
      down.delete(id);
      const ending = down.size > 0 ? [{ id, x: p.x, y: p.y }] : [];
      await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: ending });
    },
    /** The browser takes the gesture away (an incoming call, a system swipe). */
    async cancel() {
      down.clear();
      await cdp.send('Input.dispatchTouchEvent', { type: 'touchCancel', touchPoints: [] });
    },
  };
}

/** Centre of the first element matching `selector`, and its radius. */
export async function centre(page, selector) {
  const box = await (await page.waitForSelector(selector)).boundingBox();
  return { x: box.x + box.width / 2, y: box.y + box.height / 2, r: box.width / 2 };
}

/** Polls `fn` (async) until it returns a truthy value. */
export async function until(what, fn, timeout = 5000) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Opens the Drive page on `device`, arms, and waits until the app holds the lease. */
export async function armed(page, device, { mode } = {}) {
  await page.goto(`${device.url}#/drive`);
  await waitForState(page, 'connected');
  if (mode) await page.selectOption('select.mode', mode);
  await page.click('[data-testid=arm]');
  await page.waitForSelector('[data-testid=drive][data-arming=armed]');
  await page.waitForFunction(() => (document.querySelector('[data-testid=lease]')?.textContent ?? '') === 'You are driving.');
}

/** Presses Arm on the open Drive page and waits until it is armed. */
export async function arm(page) {
  await page.click('[data-testid=arm]');
  await page.waitForSelector('[data-testid=drive][data-arming=armed]');
}

/** Puts finger `id` on the (first) pad and pushes it forward; returns the touch screen and pad. */
export async function pushForward(page, id = 1) {
  const touch = await touchscreen(page);
  const pad = await centre(page, '.pad');
  await touch.press(id, pad);
  await touch.move(id, { x: pad.x, y: pad.y - pad.r * 0.7 });
  return { touch, pad };
}

/** Puts a finger on the (first) pad and pushes it forward until the car moves. */
export async function holdForward(page, device, id = 1) {
  const held = await pushForward(page, id);
  await until('driving', async () => (await device.car()).moving);
  return held;
}

/**
 * The selector of the chart canvas that shows exactly these series (among others, unless all
 * are named). A canvas names its series in its fallback content, `<span data-series=NAME>`.
 */
export function chart(...series) {
  return 'canvas.chart' + series.map((s) => `:has(> [data-series=${cssString(s)}])`).join('');
}

/** `s` as a CSS string: any name, quotes and line breaks too. */
export function cssString(s) {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\a ').replace(/\r/g, '\\d ')}"`;
}

/** Every chart on the page, as the list of its series' names. */
export async function chartSeries(page) {
  return page.$$eval('canvas.chart', (cs) => cs.map((c) => [...c.children].map((s) => s.dataset.series)));
}

/**
 * What a gauge's canvas (src/controls/gauge.rs) shows, for `locator.evaluate(drawnGauge)`: its
 * accessible value and text, how far its bar is filled (the run of the fill's colour along the
 * bar's middle row, over the bar's length), and whether anything is drawn right of the bar (the
 * reading). Self-contained: Playwright runs it in the page.
 */
export function drawnGauge(canvas) {
  const { width, height } = canvas;
  const row = canvas.getContext('2d').getImageData(0, Math.floor(height / 2), width, 1).data;
  const at = (x) => [row[4 * x], row[4 * x + 1], row[4 * x + 2], row[4 * x + 3]];
  const same = (p, q) => p.every((v, i) => Math.abs(v - q[i]) < 8);
  const first = at(1);
  let fill = 1;
  while (fill < width && same(at(fill), first)) fill++;
  let bar = fill;
  while (bar < width && at(bar)[3] > 0) bar++;
  let ink = false;
  for (let x = bar; x < width; x++) ink ||= at(x)[3] > 0;
  return {
    now: Number(canvas.getAttribute('aria-valuenow')),
    min: Number(canvas.getAttribute('aria-valuemin')),
    max: Number(canvas.getAttribute('aria-valuemax')),
    text: canvas.getAttribute('aria-valuetext'),
    fill: bar > 1 ? fill / bar : 0,
    colour: `rgb(${first[0]}, ${first[1]}, ${first[2]})`,
    reading: ink,
  };
}
