// Benchmark: the Controls page under load. `wsdeck-sim --controls many` declares 100 controls and
// changes 30 gauges 50 times a second (one ctl frame each time), with 20 Hz telemetry; the
// baseline, in the same run and browser, is the same page from `--controls none` (nothing
// declared, the same telemetry). Run by `cargo xtask bench`; prints a table and writes JSON (argv[2]).
//
// Measured from a Chromium trace of the renderer's main thread (e2e/lib/frames.mjs). A
// requestAnimationFrame loop runs on both pages, so every vsync is a main-thread frame and the two
// are counted alike. Frame time is the main thread's work for one frame: its rendering task
// (style, layout, paint, commit) and every task since the previous one (the WebSocket messages and
// the row updates they make); "render p95" is the rendering task alone. Busy % is all main-thread
// task time over wall time.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { analyse, RAF_LOOP, trace } from '../lib/frames.mjs';
import { launch, startSim, until, waitForState } from '../lib/harness.mjs';

const WARM_S = Number(process.env.WSDECK_BENCH_CONTROLS_WARM_S ?? 3);
const MEASURE_S = Number(process.env.WSDECK_BENCH_CONTROLS_S ?? 10);
const GOAL_P95_MS = 4;
const out = process.argv[2] ?? 'target/bench/controls.json';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The Controls page from `sim`, measured once it has settled. */
async function measure(context, sim, controls) {
  const page = await context.newPage();
  await page.goto(`${sim.url}#/controls`);
  await waitForState(page, 'connected');
  await until(`${controls} controls on the page`, async () => (await page.locator('[data-ctl]').count()) === controls);
  await sleep(WARM_S * 1000);
  const { events, perSecond } = await trace(page, MEASURE_S);
  await page.close();
  const r = analyse(events, MEASURE_S);
  r.controls = controls;
  r.ctl_frames_per_s = perSecond.ctl ?? 0;
  r.tel_frames_per_s = perSecond.tel ?? 0;
  return r;
}

const browser = await launch({ viewport: { width: 390, height: 844 } });
const sims = [];
const result = { warm_s: WARM_S, measure_s: MEASURE_S, goal_p95_ms: GOAL_P95_MS };
try {
  const args = ['--rate', '20', '--seed', '7', '--name', 'Bench'];
  const many = await startSim({ args: [...args, '--controls', 'many'] });
  const none = await startSim({ args: [...args, '--controls', 'none'] });
  sims.push(many, none);
  await browser.context.addInitScript(RAF_LOOP);
  console.error(`controls bench: ${WARM_S} + ${MEASURE_S} s per page...`);
  result.many = await measure(browser.context, many, 100);
  result.none = await measure(browser.context, none, 0);
  result.ratio_p95 = result.many.p95_ms / result.none.p95_ms;
  result.ratio_busy = result.many.busy_pct / result.none.busy_pct;
  result.errors = browser.errors;
} finally {
  await browser.close();
  for (const s of sims) await s.kill();
}

const num = (v, w = 8, digits = 2) => (Number.isFinite(v) ? v.toFixed(digits) : '-').padStart(w);
console.log('\nControls page: 100 controls, 30 gauges changing at 50 Hz, 20 Hz telemetry, 390x844 at DPR 2');
console.log(
  `${'page'.padEnd(14)} ${'ctl/s'.padStart(6)} ${'tel/s'.padStart(6)} ${'frames'.padStart(7)} ` +
    `${'p50 ms'.padStart(8)} ${'p95 ms'.padStart(8)} ${'max ms'.padStart(8)} ${'render95'.padStart(8)} ` +
    `${'busy %'.padStart(8)} ${'task max'.padStart(8)} ${'restyle/s'.padStart(9)}`,
);
for (const [name, label] of [['many', '100 controls'], ['none', 'none declared']]) {
  const r = result[name];
  console.log(
    `${label.padEnd(14)} ${num(r.ctl_frames_per_s, 6, 0)} ${num(r.tel_frames_per_s, 6, 0)} ` +
      `${String(r.frames).padStart(7)} ${num(r.p50_ms)} ${num(r.p95_ms)} ${num(r.max_ms)} ${num(r.render_p95_ms)} ` +
      `${num(r.busy_pct)} ${num(r.longest_task_ms)} ${num(r.restyles_per_s, 9, 0)}`,
  );
}
console.log(
  `100 controls / none: p95 ${result.ratio_p95.toFixed(2)}, busy ${result.ratio_busy.toFixed(2)}   ` +
    `(goal: p95 <= ${GOAL_P95_MS} ms: ${result.many.p95_ms <= GOAL_P95_MS ? 'met' : 'NOT met'})`,
);
if (result.errors.length) console.log(`page errors: ${result.errors.join('; ')}`);
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify(result, null, 2));
console.log(`\nwrote ${out}`);
