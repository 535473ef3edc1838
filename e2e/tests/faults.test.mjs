// Faults between the app and the device, made by our own proxy (e2e/lib/proxy.mjs): latency, a
// congested link, a half-open link, resets, a device that restarts, and frames no device should
// send, while driving and idle. Each run checks the four invariants of docs/RELIABILITY.md. This is
// the fast subset; `cargo xtask bench` runs the whole matrix many times (e2e/bench/faults.mjs).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launch } from '../lib/harness.mjs';
import { growth, PROBE, runScenario, soak, watchConsole } from '../lib/faults.mjs';

const ctx = {};
before(async () => {
  ctx.browser = await launch();
  await ctx.browser.page.addInitScript(PROBE);
  ctx.errors = watchConsole(ctx.browser.page);
});
after(async () => {
  await ctx.browser?.close();
});

const SUBSET = [
  ['latency', 'drive'],
  ['bandwidth', 'drive'],
  ['stall', 'drive'],
  ['stall', 'idle'],
  ['reset', 'drive'],
  ['restart', 'drive'],
  ['garbage', 'drive'],
  ['fragmented', 'idle'],
  ['oversized', 'drive'],
  ['invalid', 'drive'],
  ['flood', 'drive'],
  ['hostile', 'drive'],
];

for (const [name, mode] of SUBSET) {
  test(`${name}, ${mode === 'drive' ? 'while driving' : 'idle'}: the car stops, the status bar tells the truth, nothing is lost`, async () => {
    const r = await runScenario(ctx.browser.page, ctx.errors, name, mode);
    assert.equal(r.setupFailed, undefined);
    assert.deepEqual(r.violations, []);
  });
}

test('soak: 1 kHz telemetry and a reset every ~2.5 s for 60 s leak nothing', async () => {
  const r = await soak(ctx.browser.page, ctx.errors, { seconds: 60, resetEveryMs: 2500 });
  assert.ok(r.reconnects >= 15, `only ${r.reconnects} reconnects`);
  assert.equal(r.missed, 0, 'every reset is seen by the app');
  assert.deepEqual(r.errors, []);
  assert.deepEqual(growth(r.start, r.end), [], `start ${JSON.stringify(r.start)}, end ${JSON.stringify(r.end)}`);
});
