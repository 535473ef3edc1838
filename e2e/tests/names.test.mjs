// Series as real firmware names and sends them, in Chromium against the simulator (which sends
// only what the test posts to /sim/send): names with spaces, dots, quotes, commas, emoji and CJK
// show right on tiles, charts, legend, readout, Arrange (kept over a reload) and in the CSV; gaps
// break the line and show a dash with the last good value; on/off is charted as a step and text
// only has a tile.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { chart, chartSeries, suite, until, waitForState } from '../lib/harness.mjs';

const ctx = suite({ before, after });

const NAMES = ['left wheel', 'battery (V)', 'bme280.t', 'say "hi"', 'volts, main', '🔋 level', '温度', 'new\nline'];

/** RFC 4180, as a spreadsheet reads it. */
function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  return rows;
}

async function downloadCsv(page) {
  const download = page.waitForEvent('download');
  await page.click('[data-testid=csv]');
  const file = await download;
  return Buffer.concat(await (await file.createReadStream()).toArray()).toString();
}

/** A point at `frac` across the plotting area of a chart (58 px left, 14 px right margins). */
async function at(page, sel, frac) {
  const el = await page.$(sel);
  await el.scrollIntoViewIfNeeded();
  const box = await el.boundingBox();
  return { x: box.x + 58 + frac * (box.width - 72), y: box.y + box.height * 0.6 };
}

/** Points at `frac` across a chart and waits for the readout to end with `expected`. */
async function readoutAt(page, sel, frac, expected) {
  const p = await at(page, sel, frac);
  await page.mouse.move(p.x, p.y);
  let text = '';
  try {
    await until(`the readout to end with ${JSON.stringify(expected)}`, async () => {
      text = await page.textContent('[data-testid=readout]');
      return text.endsWith(expected);
    });
  } catch (e) {
    throw new Error(`${e.message}; it says ${JSON.stringify(text)}`);
  }
}

/**
 * Sends `count` telemetry frames 100 ms of device time apart from `from` ms; `values(i)` gives
 * frame i's `d`.
 */
async function stream(device, count, values, from = 0) {
  for (let i = 0; i < count; i++) {
    await device.send(JSON.stringify({ t: 'tel', ms: from + 100 * i, d: values(i) }));
  }
}

test('names with any characters show on tiles, charts, legend, readout, Arrange and in the CSV', async () => {
  const device = await ctx.sim({ args: ['--rate', '0', '--name', 'Names'] });
  const { page, errors } = ctx.browser;
  await page.goto(`${device.url}#/charts`);
  await waitForState(page, 'connected');
  await stream(device, 20, (i) => Object.fromEntries(NAMES.map((n, k) => [n, k + i / 100])));

  // Tiles (above the charts): one per name, named exactly, with its value.
  await until('a tile per series', async () => (await page.$$('.tile')).length === NAMES.length);
  // Tiles refresh on the app's 100 ms tick: wait for the last of the 20 frames to show.
  await until('the last frame on the tiles', async () =>
    (await page.$$eval('.tile .num', (ns) => ns.map((n) => n.textContent))).join() ===
    NAMES.map((_, k) => (k + 0.19).toFixed(3)).join());
  const tiles = await page.$$eval('.tile', (ts) =>
    ts.map((t) => [t.dataset.series, t.querySelector('.tile-name').textContent, t.querySelector('.num').textContent]));
  assert.deepEqual(tiles.map((t) => t[0]), NAMES);
  assert.deepEqual(tiles.map((t) => t[1]), NAMES, 'names are text, never split or escaped');
  assert.deepEqual(tiles.map((t) => t[2]), NAMES.map((_, k) => (k + 0.19).toFixed(3)));

  await stream(device, 1, () => Object.fromEntries(NAMES.map((n, k) => [n, k + 0.2])), 2000);
  await page.waitForSelector(chart('left wheel'));
  assert.deepEqual(await chartSeries(page), NAMES.map((n) => [n]), 'a chart per series, by its whole name');
  assert.deepEqual(await page.$$eval('.chip', (cs) => cs.map((c) => c.textContent)), NAMES);

  // The readout names each series whole and finds its samples (a split name finds none).
  await page.click('text=All');
  await page.click('[data-testid=pause]');
  for (const [k, name] of NAMES.entries()) {
    await readoutAt(page, chart(name), 1, ` s · ${name} ${(k + 0.2).toFixed(3)}`);
  }
  await page.click('[data-testid=pause]');
  await page.mouse.move(1, 1);

  // Arrange: put the quoted name with the spaced one; kept for this device over a reload.
  await page.click('[data-testid=arrange]');
  const rows = await page.$$eval('.arrange-row', (rs) => rs.map((r) => r.dataset.series));
  assert.deepEqual(rows, NAMES);
  const row = (await page.$$('.arrange-row'))[NAMES.indexOf('say "hi"')];
  await (await row.$('select')).selectOption('left wheel');
  await until('the two share a chart', async () =>
    (await chartSeries(page)).some((c) => c.join('|') === 'left wheel|say "hi"'));
  await page.reload();
  await waitForState(page, 'connected');
  await stream(device, 1, () => Object.fromEntries(NAMES.map((n, k) => [n, k + 0.3])), 2100);
  await page.waitForSelector(chart('left wheel', 'say "hi"'));
  const kept = await chartSeries(page);
  assert.equal(kept.length, NAMES.length - 1, `${JSON.stringify(kept)}`);

  // CSV: the header holds every name as it is; the values come back under their names.
  const rowsCsv = parseCsv(await downloadCsv(page));
  assert.deepEqual(rowsCsv[0], ['time_ms', ...NAMES]);
  const last = rowsCsv.at(-1);
  assert.deepEqual(last.slice(1).map(Number), NAMES.map((_, k) => Number(Math.fround(k + 0.3).toPrecision(7))));
  assert.deepEqual(errors, []);
});

test('gaps break the line and show a dash with the last good value; on/off is a step; text has a tile only', async () => {
  const device = await ctx.sim({ args: ['--rate', '0', '--name', 'Gaps'] });
  const { page, errors } = ctx.browser;
  await page.goto(`${device.url}#/charts`);
  await waitForState(page, 'connected');
  // temp: good, then a gap from 800 to 1200 ms (null, "NaN", "Error"), good again; pump on and
  // off; state is text.
  const gap = [null, 'NaN', 'Error', null, 'nan'];
  await stream(device, 20, (i) => ({
    temp: i >= 8 && i <= 12 ? gap[i - 8] : 20 + i / 10,
    pump: i % 4 < 2,
    state: i % 2 ? 'RUN' : 'IDLE',
  }));
  await page.waitForSelector(chart('temp'));
  await page.waitForSelector(chart('pump'));
  assert.deepEqual(await chartSeries(page), [['temp'], ['pump']], 'text is not charted');
  await page.click('text=All');
  await page.click('[data-testid=pause]');
  await page.waitForTimeout(200);

  // The line: drawn where data came, absent in the gap (never a drop to 0).
  const accent = await page.evaluate(() => getComputedStyle(document.body).getPropertyValue('--accent').trim());
  const inked = (frac) => page.$eval(chart('temp'), (c, [frac, accent]) => {
    const dpr = c.width / c.clientWidth;
    const x = Math.round((58 + frac * (c.clientWidth - 72)) * dpr);
    const rgb = [1, 3, 5].map((i) => parseInt(accent.slice(i, i + 2), 16));
    const { data } = c.getContext('2d').getImageData(x - 1, 30 * dpr, 3, c.height - 50 * dpr);
    let n = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (rgb.every((v, k) => Math.abs(data[i + k] - v) < 40) && data[i + 3] > 200) n++;
    }
    return n;
  }, [frac, accent]);
  assert.ok((await inked(400 / 1900)) > 0, 'the line is drawn at 400 ms');
  assert.equal(await inked(1000 / 1900), 0, 'no line in the gap');
  await readoutAt(page, chart('temp'), 1000 / 1900, ' s · temp –');
  await readoutAt(page, chart('temp'), 400 / 1900, ' s · temp 20.40');
  await readoutAt(page, chart('pump'), 0, ' s · pump on');
  await readoutAt(page, chart('pump'), 200 / 1900, ' s · pump off');
  await page.click('[data-testid=pause]');
  await page.mouse.move(1, 1);

  // CSV: the gap is an empty field, on/off is 1/0, text is left out.
  const csv = parseCsv(await downloadCsv(page));
  assert.deepEqual(csv[0], ['time_ms', 'temp', 'pump']);
  const byTime = new Map(csv.slice(1).map((r) => [Number(r[0]), r.slice(1)]));
  assert.deepEqual(byTime.get(700), ['20.7', '0']);
  assert.deepEqual(byTime.get(1000), ['', '0']);
  assert.deepEqual(byTime.get(1300), ['21.3', '1']);

  // Tiles: a gap shows a dash and the last good value; on/off and text in words.
  await stream(device, 1, () => ({ temp: 'NaN', pump: true, state: 'IDLE' }), 2000);
  await page.waitForSelector('.tile[data-series=temp] .tile-note');
  const tile = (name) => page.$eval(`.tile[data-series=${name}]`, (t) =>
    [t.querySelector('.num').textContent, t.querySelector('.tile-note')?.textContent ?? null, t.querySelector('.unit').textContent]);
  const [value, note] = await tile('temp');
  assert.equal(value, '–');
  assert.match(note, /^21\.90 · (now|\d+ s ago)$/);
  assert.deepEqual(await tile('pump'), ['on', null, '']);
  assert.deepEqual(await tile('state'), ['IDLE', null, '']);
  await stream(device, 1, () => ({ temp: 22.5 }), 2100);
  await until('the value is back', async () => (await tile('temp'))[0] === '22.50');
  assert.equal((await tile('temp'))[1], null);
  assert.deepEqual(errors, []);
});
