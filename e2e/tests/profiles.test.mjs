// Every `wsdeck-sim --profile` (device shapes from tutorials, docs/COMPATIBILITY.md) in real
// Chromium, as a person meets them: the word cars drive and stop by touch and keep one
// connection (the app sends them nothing unasked), and every reading shape shows on tiles with
// the value the device sent and on the charts, names exactly as sent, through the CSV too.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { arm, chart, chartSeries, pushForward, suite, until, waitForState } from '../lib/harness.mjs';

const ctx = suite({ before, after });
const profile = (name, args = []) => ctx.sim({ args: ['--profile', name, ...args] });
const WORDS = 'forward, reverse, left, right, stop';

/** Settings -> Driving for the device the app is connected to. */
async function setDriving(page, { words, onConnect = '' }) {
  await page.goto(page.url().split('#')[0] + '#/settings');
  await page.waitForSelector('#drive-words');
  await page.setChecked('#words-on', words !== undefined);
  if (words !== undefined) await page.fill('#drive-words', words);
  await page.fill('#drive-on-connect', onConnect);
  await page.click('form:has(#drive-rate) button[type=submit]');
  await page.waitForFunction(() =>
    (document.querySelector('[data-testid=drive-settings-message]')?.textContent ?? '').startsWith('Saved'));
}

/** Arms, pushes the stick forward until the car goes, lets go until it stops. */
async function driveAndStop(page, device) {
  await page.goto(page.url().split('#')[0] + '#/drive');
  await waitForState(page, 'connected');
  if ((await page.getAttribute('[data-testid=drive]', 'data-arming')) !== 'armed') await arm(page);
  const { touch } = await pushForward(page);
  await until('the car drives forward', async () => {
    const car = await device.car();
    return car.last_command === 'forward' && car.moving;
  });
  await touch.lift(1);
  await until('the car stops', async () => {
    const car = await device.car();
    return car.last_command === 'stop' && !car.moving;
  });
}

/** Tiles by series name: the big value as the tile shows it. */
async function tiles(page) {
  return page.$$eval('.tile', (ts) =>
    Object.fromEntries(ts.map((t) => [t.dataset.series, t.querySelector('.tile-value .num')?.textContent])));
}

/**
 * Whether a tile's text shows what the device sent: text and on/off exactly; a number with at
 * least the decimals it was sent with (at most 3), equal to it at that precision.
 */
function shows(tile, sent) {
  if (tile === undefined) return false;
  if (typeof sent === 'string' && !/^[-+]?[\d.]+(e[-+]?\d+)?$/i.test(sent.trim())) return tile === sent;
  const decimals = (t) => (String(t).split('.')[1] ?? '').length;
  if (decimals(tile) < Math.min(decimals(String(sent).trim()), 3)) return false;
  return Math.abs(Number(tile) - Number(sent)) <= 0.5 * 10 ** -decimals(tile) + 1e-9;
}

/** Waits until every expected tile shows what `expected(lastFrame)` says, the frame being the last the device sent. */
async function tilesMatch(page, device, expected, what) {
  let seen = {};
  let want = {};
  try {
    await until(what, async () => {
      const frame = (await device.state()).last_telemetry;
      if (!frame) return false;
      want = expected(frame);
      seen = await tiles(page);
      return Object.entries(want).every(([k, v]) => shows(seen[k], v));
    }, 10_000);
  } catch (e) {
    throw new Error(`${e.message}: want ${JSON.stringify(want)}, tiles ${JSON.stringify(seen)}`);
  }
}

test('tutorial-car: driven by touch on its words, and one connection for a minute', async () => {
  const device = await profile('tutorial-car');
  const { page, errors } = ctx.browser;
  await page.goto(device.url);
  await waitForState(page, 'connected');
  await setDriving(page, { words: WORDS });
  await driveAndStop(page, device);
  // A minute in which the person does nothing: the app must send nothing (a ping would make
  // this car drop the link), and must not call the link dead.
  const heardBefore = (await device.state()).frames_from_app;
  await new Promise((r) => setTimeout(r, 60_000));
  const idle = await device.state();
  assert.equal(idle.frames_from_app, heardBefore, `sent unasked: ${JSON.stringify(idle.recent_frames.slice(-3))}`);
  assert.match(await page.textContent('[data-testid=link-state]'), /no heartbeat|Link unknown/);
  await driveAndStop(page, device);
  const end = await device.state();
  assert.equal(end.connections_total, 1, 'one connection all along');
  assert.equal(end.unexpected_closes, 0, JSON.stringify(end.recent_unexpected));
  assert.deepEqual(errors, []);
});

test('silent-car: drives and stops by touch; the app says it cannot tell the link is alive', async () => {
  const device = await profile('silent-car');
  const { page, errors } = ctx.browser;
  await page.goto(device.url);
  await waitForState(page, 'connected');
  assert.equal(await page.getAttribute('[data-testid=status]', 'data-heartbeat'), 'off');
  assert.equal(await page.textContent('[data-testid=rtt]'), 'no heartbeat');
  await setDriving(page, { words: WORDS });
  await driveAndStop(page, device);
  await page.waitForSelector('[data-testid=status][data-silent]', { timeout: 6000 });
  assert.match(await page.textContent('[data-testid=link-state]'), /^Link unknown · silent for \d+ s$/);
  await driveAndStop(page, device);
  assert.equal((await device.state()).connections_total, 1);
  assert.deepEqual(errors, []);
});

test('string-readings: getReadings on connect, the strings show as the numbers sent, and chart', async () => {
  const device = await profile('string-readings', ['--rate', '5']);
  const { page, errors } = ctx.browser;
  await page.goto(device.url);
  await waitForState(page, 'connected');
  await setDriving(page, { onConnect: 'getReadings' });
  await page.goto(page.url().split('#')[0] + '#/charts');
  await tilesMatch(page, device, (frame) => {
    const d = JSON.parse(frame);
    const want = { temperature: d.temperature, pressure: d.pressure };
    if (d.humidity !== 'nan') want.humidity = d.humidity;
    return want;
  }, 'tiles with the readings as sent');
  await page.waitForSelector(chart('temperature'));
  await page.waitForSelector(chart('pressure'));
  assert.deepEqual(errors, []);
});

test('text-frames: key=value lines and CSV lines become series', async () => {
  const device = await profile('text-frames');
  const { page, errors } = ctx.browser;
  await page.goto(`${device.url}#/charts`);
  await waitForState(page, 'connected');
  await until('four tiles', async () => {
    const t = await tiles(page);
    return ['temp', 'hum', 'value1', 'value2'].every((k) => Number.isFinite(Number(t[k])));
  });
  await tilesMatch(page, device, (frame) => {
    if (frame.includes('=')) {
      const [, temp, hum] = frame.match(/temp=([^,]+), hum=(.+)/);
      return { temp, hum };
    }
    const [value1, value2] = frame.split(',');
    return { value1, value2 };
  }, 'tiles equal to the last line');
  for (const s of ['temp', 'hum', 'value1', 'value2']) await page.waitForSelector(chart(s));
  assert.deepEqual(errors, []);
});

test('nested: dotted names, an array, a text state and an on/off relay', async () => {
  const device = await profile('nested');
  const { page, errors } = ctx.browser;
  await page.goto(`${device.url}#/charts`);
  await waitForState(page, 'connected');
  await tilesMatch(page, device, (frame) => {
    const d = JSON.parse(frame);
    return { 'bme280.t': String(d.bme280.t), 'accel.2': String(d.accel[2]), state: d.state, relay: d.relay.toLowerCase() };
  }, 'the nested tiles');
  const names = Object.keys(await tiles(page));
  for (const n of ['bme280.t', 'bme280.h', 'accel.0', 'accel.1', 'accel.2', 'state', 'relay']) {
    assert.ok(names.includes(n), `${n} in ${names}`);
  }
  await page.waitForSelector(chart('accel.2'));
  await page.waitForSelector(chart('relay'));
  const charted = (await chartSeries(page)).flat();
  assert.ok(!charted.includes('state'), 'text is shown on a tile, not charted');
  assert.deepEqual(errors, []);
});

test('spaced-names: every name exactly as sent on tiles, charts and in the CSV', async () => {
  const device = await profile('spaced-names');
  const { page, errors } = ctx.browser;
  await page.goto(`${device.url}#/charts`);
  await waitForState(page, 'connected');
  const NAMES = ['left wheel', 'battery (V)', 'température °C', '温度', 'a/b "q"'];
  await until('a tile per name', async () => (await page.$$('.tile')).length === NAMES.length);
  assert.deepEqual(Object.keys(await tiles(page)), NAMES);
  for (const n of NAMES) await page.waitForSelector(chart(n));
  const download = page.waitForEvent('download');
  await page.click('[data-testid=csv]');
  const csv = Buffer.concat(await (await (await download).createReadStream()).toArray()).toString();
  const header = csv.split('\n')[0];
  assert.equal(header, ['time_ms', 'left wheel', 'battery (V)', 'température °C', '温度', '"a/b ""q"""'].join(','));
  assert.deepEqual(errors, []);
});
