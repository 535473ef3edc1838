// The charts in Chromium against the simulator: every series gets a canvas that follows the
// data, and stops changing while paused (the data keeps coming).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { chart, chartSeries, suite, waitForState } from '../lib/harness.mjs';

const ctx = suite({ before, after });

const pixels = (page, series) =>
  page.$eval(chart(series), (c) => c.toDataURL());

test('every series is charted live; pausing freezes the picture, not the data', async () => {
  const device = await ctx.sim({ args: ['--rate', '100'] });
  const { page, errors } = ctx.browser;
  await page.goto(`${device.url}#/charts`);
  await waitForState(page, 'connected');
  await page.waitForSelector(chart('distance_cm'));
  const names = await chartSeries(page);
  assert.deepEqual(names.slice(0, 4), [['battery_v'], ['temp_c'], ['distance_cm'], ['rssi_dbm']]);
  // Crisp on HiDPI: the backing store is the element's size times the pixel ratio (2 here).
  const size = await page.$eval(chart('temp_c'), (c) => [c.width, c.clientWidth, c.height, c.clientHeight]);
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

test('CSV export holds exactly the values the device sent; Clear empties the buffer', async () => {
  const device = await ctx.sim({ args: ['--rate', '50'] });
  const page = await ctx.browser.context.newPage();
  try {
    // Record every telemetry frame the page receives, to compare with the export.
    await page.addInitScript(() => {
      window.__tel = new Map();
      const Native = window.WebSocket;
      window.WebSocket = class extends Native {
        constructor(...args) {
          super(...args);
          this.addEventListener('message', (e) => {
            try {
              const m = JSON.parse(e.data);
              if (m.t === 'tel') window.__tel.set(m.ms, m.d);
            } catch {}
          });
        }
      };
    });
    await page.goto(`${device.url}#/charts`);
    await waitForState(page, 'connected');
    await page.waitForTimeout(1000);
    await page.click('text=All');
    const download = page.waitForEvent('download');
    await page.click('[data-testid=csv]');
    const file = await download;
    assert.match(file.suggestedFilename(), /^wsdeck-wsdeck-sim-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.csv$/);
    const text = await (await file.createReadStream()).toArray().then((chunks) => Buffer.concat(chunks).toString());
    const [header, ...rows] = text.trim().split('\n');
    const columns = header.split(',');
    assert.deepEqual(columns.slice(0, 3), ['time_ms', 'battery_v', 'temp_c']);
    assert.ok(rows.length >= 20, `${rows.length} rows`);
    const sent = new Map(await page.evaluate(() => [...window.__tel]));
    for (const row of rows) {
      const cells = row.split(',');
      const d = sent.get(Number(cells[0]));
      assert.ok(d, `row at ${cells[0]} ms matches a frame the device sent`);
      columns.slice(1).forEach((name, i) => {
        const v = Number(cells[i + 1]);
        assert.ok(Math.abs(v - d[name]) <= Math.abs(d[name]) * 1e-6 + 1e-6, `${name} at ${cells[0]}: ${v} vs ${d[name]}`);
      });
    }

    await page.click('[data-testid=clear]');
    const again = page.waitForEvent('download');
    await page.click('[data-testid=csv]');
    const after = await (await (await again).createReadStream()).toArray().then((c) => Buffer.concat(c).toString());
    assert.ok(after.trim().split('\n').length < rows.length / 2, 'cleared');
  } finally {
    await page.close();
  }
});

test('a hidden series disappears, and stays hidden for that device after a reload', async () => {
  const device = await ctx.sim({ args: ['--rate', '50', '--name', 'Hide Test'] });
  const { page } = ctx.browser;
  await page.goto(`${device.url}#/charts`);
  await waitForState(page, 'connected');
  await page.waitForSelector(chart('rssi_dbm'));
  assert.equal(await page.textContent('.chip[data-series=rssi_dbm]'), 'WiFi signal', 'chips use the labels from hello');
  await page.click('.chip[data-series=rssi_dbm]');
  await page.waitForSelector(chart('rssi_dbm'), { state: 'detached' });
  assert.equal(await page.getAttribute('.chip[data-series=rssi_dbm]', 'aria-pressed'), 'false');
  await page.reload();
  await waitForState(page, 'connected');
  await page.waitForSelector(chart('temp_c'));
  await page.waitForTimeout(300);
  assert.equal(await page.$(chart('rssi_dbm')), null, 'still hidden');
  await page.click('.chip[data-series=rssi_dbm]');
  await page.waitForSelector(chart('rssi_dbm'));
});
