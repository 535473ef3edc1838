// The app against WebSocket servers we did not write: Microdot (MicroPython's web framework, the
// pinned release from PyPI, run on CPython) serving the tutorial firmware in e2e/devices. The
// simulator only serves the app; the page connects to the Python device with ?ws=, as a person
// opening the app on a tutorial car or sensor would. The devices report on stdout what they
// heard, as the tutorials print it.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { heardIn, startDevice } from '../lib/devices.mjs';
import { arm, centre, freePort, pushForward, suite, tileValues, touchscreen, until, waitForState } from '../lib/harness.mjs';

const WORDS = ['forward', 'reverse', 'left', 'right', 'stop'];

const ctx = suite({ before, after });
const devices = [];
after(async () => {
  for (const d of devices) await d.stop();
});

/**
 * Runs e2e/devices/`script` on 127.0.0.1 and resolves once it answers HTTP. `heard()`: the
 * WebSocket messages it received, in order; `opened()` / `closed()`: its WebSocket connections.
 */
async function device(script, args = []) {
  const d = await startDevice(devices, script, args);
  const lines = () => d.output().split('\n');
  return Object.assign(d, {
    heard: () => heardIn(d.output()),
    opened: () => lines().filter((l) => l === 'websocket open').length,
    closed: () => lines().filter((l) => l === 'websocket closed').length,
  });
}

/** The app, served by the simulator, opened on `page` (`#/…`) with the device's address. */
async function openApp(dev, page = '#/') {
  const sim = await ctx.sim();
  const { page: tab } = ctx.browser;
  await tab.goto(`${sim.url}?ws=${encodeURIComponent(dev.wsUrl)}${page}`);
  await waitForState(tab, 'connected');
  return tab;
}

/** Fills and saves the Driving card of Settings for the device the app is connected to. */
async function saveForDevice(page, dev, { words, onConnect = '' }) {
  await page.goto(page.url().replace(/#.*$/, '#/settings'));
  await page.waitForFunction(
    (url) => document.querySelector('[data-testid=prefs-url]')?.textContent === url,
    dev.wsUrl,
  );
  await page.setChecked('#words-on', words !== undefined);
  if (words !== undefined) await page.fill('#drive-words', words);
  await page.fill('#drive-on-connect', onConnect);
  await page.click('form:has(#drive-rate) button[type=submit]');
  await page.waitForFunction(() =>
    (document.querySelector('[data-testid=drive-settings-message]')?.textContent ?? '').startsWith('Saved'),
  );
}

/** Every tile is a number within a rounding of what the device sent, and there are no others. */
function near(tiles, sent) {
  assert.deepEqual(Object.keys(tiles).sort(), Object.keys(sent).sort(), JSON.stringify(tiles));
  for (const [name, value] of Object.entries(sent)) {
    const shown = Number(tiles[name]);
    assert.ok(Math.abs(shown - value) <= Math.abs(value) * 1e-4, `${name} shows ${tiles[name]}, the device sent ${value}`);
  }
}

/** The crosshair readout over the newest part of the chart that draws `series`. */
async function readChart(page, series) {
  const chart = await page.waitForSelector(`canvas:has(span[data-series="${series}"])`);
  await chart.scrollIntoViewIfNeeded();
  await page.waitForTimeout(600);
  const box = await chart.boundingBox();
  await page.mouse.move(box.x + box.width * 0.85, box.y + box.height * 0.6);
  return until(`the crosshair readout on ${series}`, async () => {
    const t = await page.textContent('[data-testid=readout]');
    return /s · /.test(t) && t;
  });
}

const status = (page) =>
  page.$eval('[data-testid=status]', (s) => ({
    state: s.dataset.state,
    heartbeat: s.dataset.heartbeat,
    label: s.querySelector('[data-testid=link-state]').textContent,
    rtt: s.querySelector('[data-testid=rtt]').textContent,
  }));

test('a Microdot tutorial car: its words by touch, stop on release, one connection for a minute', async () => {
  const car = await device('microdot_car.py');
  const { errors } = ctx.browser;
  const page = await openApp(car, '#/settings');
  const first = await status(page);
  assert.doesNotMatch(first.rtt, /\d\s*ms/, `no round-trip time for a device that cannot be pinged: ${first.rtt}`);
  assert.equal(first.heartbeat, 'off');
  await page.waitForTimeout(1500);
  assert.deepEqual(car.heard(), [], `the app said nothing it was not asked to:\n${car.output()}`);

  await saveForDevice(page, car, { words: WORDS.join(', ') });
  await page.goto(page.url().replace(/#.*$/, '#/drive'));
  await waitForState(page, 'connected');
  await page.click('[data-testid=arm]');
  await page.waitForSelector('[data-testid=drive][data-arming=armed]');

  const touch = await touchscreen(page);
  const pad = await centre(page, '.pad');
  const drive = async (id, to, word) => {
    await touch.move(id, to);
    await until(`"${word}" at the car\n${car.output()}`, async () => car.heard().at(-1) === word);
  };
  await touch.press(1, pad);
  await drive(1, { x: pad.x, y: pad.y - pad.r * 0.7 }, 'forward');
  await drive(1, { x: pad.x + pad.r * 0.7, y: pad.y }, 'right');
  await drive(1, { x: pad.x, y: pad.y + pad.r * 0.7 }, 'reverse');
  await touch.lift(1);
  await until(`"stop" on release\n${car.output()}`, async () => car.heard().at(-1) === 'stop');

  // A minute of nothing but the car's OKs: no heartbeat, no reconnect, and the car still drives.
  await page.waitForTimeout(60_000);
  await touch.press(2, pad);
  await drive(2, { x: pad.x - pad.r * 0.7, y: pad.y }, 'left');
  await touch.lift(2);
  await until(`"stop" on release\n${car.output()}`, async () => car.heard().at(-1) === 'stop');

  const heard = car.heard();
  assert.deepEqual(heard.filter((m) => !WORDS.includes(m)), [], `only the car's words: ${heard.join(' | ')}`);
  assert.equal(car.opened(), 1, `one connection for the whole minute:\n${car.output()}`);
  assert.equal(car.closed(), 0, `the car never dropped the link:\n${car.output()}`);
  const last = await status(page);
  assert.equal(last.state, 'connected');
  assert.doesNotMatch(last.rtt, /\d\s*ms/, `still no round-trip time it cannot know: ${last.rtt}`);
  assert.match(last.label, /no heartbeat|unknown/i, `the status bar says the link is not watched: ${last.label}`);
  // The car's OKs are not telemetry, and the Device page says so.
  await page.goto(page.url().replace(/#.*$/, '#/device'));
  const unused = await page.textContent('[data-testid=unused]');
  assert.match(unused, /OK/, `what the app made of the car's replies: ${unused}`);
  assert.deepEqual(errors, []);
});

test('a car not told its words drops the link on the first JSON frame; the app does not hammer it', async () => {
  const car = await device('microdot_car.py');
  const { errors } = ctx.browser;
  const page = await openApp(car, '#/drive');
  await arm(page);
  const { touch } = await pushForward(page);
  // Microdot's handler raises on a message it has no command for and closes the connection.
  await until(`the car to drop the link\n${car.output()}`, async () => car.closed() >= 1);
  await touch.lift(1);
  await page.waitForTimeout(5000);
  assert.ok(car.opened() <= 3, `not hammered: ${car.opened()} connections in 5 s\n${car.output()}`);
  assert.ok(car.heard().length <= 3, `the app stopped sending what the car refuses: ${car.heard().join(' | ')}`);
  await waitForState(page, 'connected');
  assert.equal(await page.getAttribute('[data-testid=drive]', 'data-arming'), 'disarmed', 'driving starts over');
  await page.goto(page.url().replace(/#.*$/, '#/device'));
  const log = await page.textContent('[data-testid=event-log]');
  assert.match(log, /connection lost|closed the connection/, log);
  assert.deepEqual(errors, []);
});

test('an ESP32-tutorial sensor: getReadings on connect, string readings as numbers, tiles and charts', async () => {
  const sensor = await device('microdot_sensor.py', ['0.2']);
  const { errors } = ctx.browser;
  const page = await openApp(sensor, '#/settings');
  await saveForDevice(page, sensor, { onConnect: 'getReadings' });
  await until(`getReadings at the sensor\n${sensor.output()}`, async () => sensor.heard().includes('getReadings'));

  await page.goto(page.url().replace(/#.*$/, '#/'));
  await page.waitForSelector('.tile[data-series=pressure]');
  const tiles = await until('the three readings', async () => {
    const t = await tileValues(page);
    return t.temperature && t.humidity && t.pressure ? t : null;
  });
  // As numbers, to the digits the tiles show (three or four significant: 1013.25 reads 1013.2).
  near(tiles, { temperature: 23.12, humidity: 45.2, pressure: 1013.25 });

  await page.goto(page.url().replace(/#.*$/, '#/charts'));
  for (const [name, value] of [['temperature', 23.12], ['humidity', 45.2], ['pressure', 1013.25]]) {
    const readout = await readChart(page, name);
    near({ [name]: readout.match(new RegExp(`${name} (\\S+)`))?.[1] }, { [name]: value });
  }
  assert.equal(sensor.opened(), 1, `one connection:\n${sensor.output()}`);
  assert.deepEqual(errors, []);
});

test('names with spaces and brackets: their tiles, and charts that draw and read them', async () => {
  const board = await device('microdot_telemetry.py', ['0.2']);
  const { errors } = ctx.browser;
  const page = await openApp(board, '#/');
  const tiles = await until('both readings', async () => {
    const t = await tileValues(page);
    return t['left wheel'] && t['battery (V)'] ? t : null;
  });
  near(tiles, { 'left wheel': 0.5, 'battery (V)': 3.9 });
  await page.goto(page.url().replace(/#.*$/, '#/charts'));
  const wheel = await readChart(page, 'left wheel');
  near({ 'left wheel': wheel.match(/left wheel (\S+)/)?.[1] }, { 'left wheel': 0.5 });
  assert.doesNotMatch(wheel, /–/, `one series named "left wheel", not two without values: ${wheel}`);
  const battery = await readChart(page, 'battery (V)');
  near({ 'battery (V)': battery.match(/battery \(V\) (\S+)/)?.[1] }, { 'battery (V)': 3.9 });
  assert.deepEqual(board.heard(), [], 'the app sent this board nothing');
  assert.deepEqual(errors, []);
});
