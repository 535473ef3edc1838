// Benchmark: the whole fault matrix (every scenario of e2e/lib/faults.mjs, driving and idle, with
// a different proxy seed each run) and a long soak (1 kHz telemetry, a reset every ~2.5 s). Prints
// a table (scenario, runs, violations, worst stop latency, worst reconnect time) and writes JSON
// (path in argv[2]). Run by `cargo xtask bench`. WSDECK_BENCH_FAULT_RUNS (default 5) and
// WSDECK_BENCH_SOAK_S (default 600) make it shorter.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { launch } from '../lib/harness.mjs';
import { growth, PROBE, runScenario, SCENARIOS, soak, watchConsole } from '../lib/faults.mjs';

const RUNS = Number(process.env.WSDECK_BENCH_FAULT_RUNS ?? 5);
const SOAK_S = Number(process.env.WSDECK_BENCH_SOAK_S ?? 600);
const out = process.argv[2] ?? 'target/bench/faults.json';

const browser = await launch();
await browser.page.addInitScript(PROBE);
const errors = watchConsole(browser.page);
const rows = [];
const worst = (xs) => (xs.length ? Math.max(...xs) : null);
let results;
try {
  for (const name of Object.keys(SCENARIOS)) {
    for (const mode of ['drive', 'idle']) {
      const runs = [];
      for (let i = 0; i < RUNS; i++) runs.push(await runScenario(browser.page, errors, name, mode, { seed: i + 1 }));
      const of = (k) => runs.map((r) => r[k]).filter((v) => v != null);
      const row = {
        scenario: `${name} (${mode})`,
        runs: runs.length,
        violations: runs.reduce((n, r) => n + r.violations.length, 0),
        worst_stop_ms: worst(of('stopMs')),
        worst_fault_stop_ms: worst(of('faultStopMs')),
        worst_detect_ms: worst(of('detectMs')),
        worst_reconnect_ms: worst(of('reconnectMs')),
        watchdog_trips: of('watchdogTrips').reduce((a, b) => a + b, 0),
        worst_watchdog_late_ms: worst(of('watchdogLateMs')),
        setup_failed: of('setupFailed').length,
        what: runs.flatMap((r) => r.violations),
      };
      rows.push(row);
      console.log(`${row.scenario}: ${row.violations} violation(s)${row.setup_failed ? ` (${row.setup_failed} run(s) could not start)` : ''}${row.what.length ? `: ${[...new Set(row.what)].join('; ')}` : ''}`);
    }
  }
  console.log(`\nsoak: ${SOAK_S} s of 1 kHz telemetry, a reset every ~2.5 s`);
  const s = await soak(browser.page, errors, {
    seconds: SOAK_S,
    onProgress: (n, m) => console.log(`  ${n} reconnects: ${JSON.stringify(m)}`),
  });
  // Least-squares slope of each measure against the reconnect count: what one reconnect costs.
  const slope = (k) => {
    const pts = s.samples.map((p, i) => [i === 0 ? 0 : i === s.samples.length - 1 ? s.reconnects : i * 20, p[k]]);
    const mx = pts.reduce((a, p) => a + p[0], 0) / pts.length;
    const my = pts.reduce((a, p) => a + p[1], 0) / pts.length;
    const num = pts.reduce((a, p) => a + (p[0] - mx) * (p[1] - my), 0);
    const den = pts.reduce((a, p) => a + (p[0] - mx) ** 2, 0);
    return den ? num / den : 0;
  };
  const keys = ['wasmMemory', 'externrefs', 'jsHeapUsed', 'nodes', 'listeners'];
  results = {
    runs_per_scenario: RUNS,
    scenarios: rows,
    soak: {
      seconds: SOAK_S,
      reconnects: s.reconnects,
      resets_not_seen_by_the_app: s.missed,
      telemetry_frames: s.frames,
      worst_reconnect_ms: worst(s.reconnectMs),
      start: s.start,
      end: s.end,
      per_reconnect: Object.fromEntries(keys.map((k) => [k, slope(k)])),
      not_flat: growth(s.start, s.end),
      errors: s.errors,
      samples: s.samples,
    },
  };
} finally {
  await browser.close();
}

const f = (v) => (v == null ? '–' : String(Math.round(v)));
console.log('\nfault matrix (ms; stop = finger lifted -> device stopped; reconnect = link back -> connected)');
console.log(`${'scenario'.padEnd(22)}${'runs'.padStart(5)}${'viol.'.padStart(7)}${'stop'.padStart(7)}${'fault->stop'.padStart(12)}${'detect'.padStart(8)}${'reconnect'.padStart(10)}${'wd trips'.padStart(9)}`);
for (const r of results.scenarios) {
  console.log(`${r.scenario.padEnd(22)}${String(r.runs).padStart(5)}${String(r.violations).padStart(7)}${f(r.worst_stop_ms).padStart(7)}${f(r.worst_fault_stop_ms).padStart(12)}${f(r.worst_detect_ms).padStart(8)}${f(r.worst_reconnect_ms).padStart(10)}${String(r.watchdog_trips).padStart(9)}`);
}
const so = results.soak;
console.log(`\nsoak: ${so.seconds} s, ${so.reconnects} reconnects, ${so.telemetry_frames} telemetry frames, worst reconnect ${f(so.worst_reconnect_ms)} ms`);
console.log(`${'measure'.padEnd(12)}${'start'.padStart(12)}${'end'.padStart(12)}${'per reconnect'.padStart(15)}`);
for (const k of Object.keys(so.start)) {
  console.log(`${k.padEnd(12)}${String(so.start[k]).padStart(12)}${String(so.end[k]).padStart(12)}${so.per_reconnect[k].toFixed(1).padStart(15)}`);
}
console.log(so.not_flat.length ? `NOT flat: ${so.not_flat.join('; ')}` : 'flat: every measure within 5 % or its small absolute slack');
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify(results, null, 2));
console.log(`wrote ${out}`);
