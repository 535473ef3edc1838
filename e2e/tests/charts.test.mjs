// The charts in Chromium against the simulator: every series gets a canvas that follows the
// data, and stops changing while paused (the data keeps coming).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { suite, waitForState } from '../lib/harness.mjs';

const ctx = suite({ before, after });

const pixels = (page, series) =>
  page.$eval(`canvas[data-series=${series}]`, (c) => c.toDataURL());

test('every series is charted live; pausing freezes the picture, not the data', async () => {
  const device = await ctx.sim({ args: ['--rate', '100'] });
  const { page, errors } = ctx.browser;
  await page.goto(`${device.url}#/charts`);
  await waitForState(page, 'connected');
  await page.waitForSelector('canvas[data-series=distance_cm]');
  const names = await page.$$eval('canvas[data-series]', (cs) => cs.map((c) => c.dataset.series));
  assert.deepEqual(names.slice(0, 4), ['battery_v', 'temp_c', 'distance_cm', 'rssi_dbm']);
  // Crisp on HiDPI: the backing store is the element's size times the pixel ratio (2 here).
  const size = await page.$eval('canvas[data-series=temp_c]', (c) => [c.width, c.clientWidth, c.height, c.clientHeight]);
  assert.equal(size[0], size[1] * 2);
  assert.equal(size[2], size[3] * 2);

  const a = await pixels(page, 'distance_cm');
  await page.waitForTimeout(300);
  const b = await pixels(page, 'distance_cm');
  assert.notEqual(a, b, 'the chart moves while data comes');

  await page.click('[data-testid=pause]');
  await page.waitForTimeout(100);
  const frames = (await device.state()).telemetry_frames;
  const c = await pixels(page, 'distance_cm');
  await page.waitForTimeout(400);
  assert.equal(await pixels(page, 'distance_cm'), c, 'paused: the picture holds still');
  assert.ok((await device.state()).telemetry_frames > frames + 10, 'while the data keeps coming');

  await page.click('[data-testid=pause]');
  await page.waitForTimeout(100);
  assert.notEqual(await pixels(page, 'distance_cm'), c, 'resumed: the chart jumps to now');

  // A longer window draws the same data over more time.
  const before1min = await pixels(page, 'temp_c');
  await page.click('text=1 min');
  await page.waitForTimeout(100);
  assert.notEqual(await pixels(page, 'temp_c'), before1min);
  assert.deepEqual(errors, []);
});
