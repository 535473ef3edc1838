// Reading and arranging the charts in Chromium against the simulator: the crosshair readout,
// zoom and pan while paused (mouse wheel, drag, two-finger pinch), groups from hello and the
// person's own arrangement, theme and size changes redrawn without new data.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { chart, chartSeries, pinchOut, suite, touchscreen, until, waitForState } from '../lib/harness.mjs';

const ctx = suite({ before, after });

const pixels = (page, sel) => page.$eval(sel, (c) => c.toDataURL());

/** A point at `frac` across the plotting area of the chart `sel` (58 px left, 14 px right margins). */
async function at(page, sel, frac) {
  const el = await page.$(sel);
  await el.scrollIntoViewIfNeeded();
  const box = await el.boundingBox();
  const left = box.x + 58;
  const right = box.x + box.width - 14;
  return { x: left + frac * (right - left), y: box.y + box.height * 0.6 };
}

/** The crosshair's time (s before the newest sample) and the readout text at a point. */
async function readAt(page, p) {
  await page.mouse.move(p.x, p.y);
  const text = await until('a readout', async () => {
    const t = await page.textContent('[data-testid=readout]');
    return /s · /.test(t) && t;
  });
  return { t: Number(text.split(' s')[0]), text };
}

/**
 * Opens the charts on a 50 Hz simulator, lets `seconds` of data come, shows all of it and
 * pauses. Returns the obstacle chart's selector and `span()`: the seconds between the points at
 * 20 % and 80 % across it, read with the crosshair.
 */
async function pausedOnAll(seconds) {
  const device = await ctx.sim({ args: ['--rate', '50'] });
  const { page } = ctx.browser;
  await page.goto(`${device.url}#/charts`);
  await waitForState(page, 'connected');
  const sel = chart('distance_cm');
  await page.waitForSelector(sel);
  await page.waitForTimeout(seconds * 1000);
  await page.click('text=All');
  await page.click('[data-testid=pause]');
  const [a, b] = [await at(page, sel, 0.2), await at(page, sel, 0.8)];
  const span = async () => (await readAt(page, b)).t - (await readAt(page, a)).t;
  return { page, sel, a, span };
}

test('the crosshair reads the values under the pointer', async () => {
  const device = await ctx.sim({ args: ['--rate', '50'] });
  const { page, errors } = ctx.browser;
  await page.goto(`${device.url}#/charts`);
  await waitForState(page, 'connected');
  await page.waitForSelector(chart('temp_c'));
  await page.waitForTimeout(1500);
  const { text } = await readAt(page, await at(page, chart('temp_c'), 0.9));
  assert.match(text, /^-\d+\.\d\d s · Temperature \d+\.\d+ °C$/, 'label, value and unit from hello');
  const grouped = await readAt(page, await at(page, chart('wheel_l_mps', 'wheel_r_mps'), 0.9));
  assert.match(grouped.text, /Left wheel -?\d.* m\/s · Right wheel -?\d.* m\/s$/, 'a shared chart reads every series');
  await page.mouse.move(1, 1);
  await until('the readout clears when the pointer leaves', async () => (await page.textContent('[data-testid=readout]')) === '');
  assert.deepEqual(errors, []);
});

test('paused, the wheel zooms and a drag pans the time axis; double-click or a window zooms out', async () => {
  const { errors } = ctx.browser;
  const { page, sel, a, span } = await pausedOnAll(3);
  const before = await span();
  assert.ok(before > 1.2, `all buffered: ${before} s across`);

  // Wheel up over the middle: a smaller span, the time under the pointer stays put.
  const mid = await at(page, sel, 0.5);
  const tMid = (await readAt(page, mid)).t;
  await page.mouse.wheel(0, -300);
  await page.mouse.wheel(0, -300);
  await until('zoomed in', async () => (await span()) < before * 0.6);
  const zoomed = await span();
  assert.ok(Math.abs((await readAt(page, mid)).t - tMid) < before * 0.02, 'zoom keeps the time under the pointer');
  assert.match(await page.textContent('[data-testid=hint]'), /Zoomed/);

  // Drag right: earlier data comes into view.
  const tA = (await readAt(page, a)).t;
  await page.mouse.move(mid.x, mid.y);
  await page.mouse.down();
  await page.mouse.move(mid.x + 60, mid.y, { steps: 4 });
  await page.mouse.up();
  const panned = (await readAt(page, a)).t;
  assert.ok(panned < tA - zoomed * 0.05, `panned back in time: ${tA} -> ${panned}`);
  assert.ok(Math.abs((await span()) - zoomed) < zoomed * 0.02, 'panning keeps the zoom');

  // While paused the picture holds still even though data keeps coming.
  const still = await pixels(page, sel);
  await page.waitForTimeout(300);
  assert.equal(await pixels(page, sel), still);

  await page.dblclick(sel);
  await until('zoomed out', async () => Math.abs((await span()) - before) < before * 0.05);
  assert.match(await page.textContent('[data-testid=hint]'), /^Paused/);
  await page.click('[data-testid=pause]');
  assert.deepEqual(errors, []);
});

test('two fingers pinch to zoom while paused', async () => {
  const { errors } = ctx.browser;
  const { page, sel, span } = await pausedOnAll(2);
  const before = await span();
  const touch = await touchscreen(page);
  const c = await at(page, sel, 0.5);
  await pinchOut(touch, c, { step: 10 });
  const after = await span();
  assert.ok(after < before * 0.5, `fingers apart zoom in: ${before} s -> ${after} s`);
  await page.click('[data-testid=pause]');
  assert.deepEqual(errors, []);
});

test('series of one group share a chart; the person regroups and reorders, remembered per device', async () => {
  const device = await ctx.sim({ args: ['--rate', '20', '--name', 'Arrange Test'] });
  const { page, errors } = ctx.browser;
  await page.goto(`${device.url}#/charts`);
  await waitForState(page, 'connected');
  await page.waitForSelector(chart('wheel_l_mps', 'wheel_r_mps'));
  const charts = async () => (await chartSeries(page)).map((series) => series.join(' '));
  assert.deepEqual((await charts()).slice(0, 7), [
    'battery_v', 'temp_c', 'distance_cm', 'rssi_dbm', 'wheel_l_mps wheel_r_mps', 'x_m y_m', 'heading_deg',
  ]);
  await page.click('[data-testid=arrange]');
  const row = (s) => `.arrange-row[data-series=${s}]`;
  await page.selectOption(`${row('temp_c')} select`, 'distance_cm');
  await until('temperature joins the obstacle chart', async () => (await charts()).includes('temp_c distance_cm'));
  await page.selectOption(`${row('wheel_r_mps')} select`, '');
  await until('the right wheel on its own', async () => (await charts()).includes('wheel_r_mps'));
  await page.click(`${row('heading_deg')} [aria-label="Move up"]`);
  await page.reload();
  await waitForState(page, 'connected');
  await page.waitForSelector(chart('temp_c', 'distance_cm'));
  const kept = await charts();
  assert.deepEqual(kept, ['battery_v', 'temp_c distance_cm', 'rssi_dbm', 'wheel_l_mps', 'wheel_r_mps', 'heading_deg', 'x_m y_m']);
  await page.click('[data-testid=arrange]');
  await page.click('[data-testid=arrange-reset]');
  await until('back to the device layout', async () => (await charts()).includes('wheel_l_mps wheel_r_mps'));
  assert.deepEqual(errors, []);
});

test('a theme switch and a new size redraw at once, with no new data', async () => {
  const device = await ctx.sim({ args: ['--rate', '20'] });
  const { page, errors } = ctx.browser;
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.goto(`${device.url}#/charts`);
  await waitForState(page, 'connected');
  await page.waitForSelector(chart('temp_c'));
  await page.waitForTimeout(500);
  await page.click('[data-testid=pause]');
  await page.waitForTimeout(100);
  const sel = chart('temp_c');
  const dark = await pixels(page, sel);
  await page.emulateMedia({ colorScheme: 'light' });
  await until('redrawn in light colours', async () => (await pixels(page, sel)) !== dark);

  await page.setViewportSize({ width: 600, height: 844 });
  await until('the canvas follows its new width at the pixel ratio', () =>
    page.$eval(sel, (c) => c.width === c.clientWidth * 2 && c.clientWidth > 500));
  await page.setViewportSize({ width: 390, height: 844 });
  await page.click('[data-testid=pause]');
  assert.deepEqual(errors, []);
});
