// The app against the simulator in real Chromium: connect, link quality, telemetry tiles,
// reconnection, bad frames, devices that predate wsdeck, and choosing the address.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { suite, tileValues, waitForState } from '../lib/harness.mjs';

const ctx = suite({ before, after });
const sim = ctx.sim;

test('connects to the device, names it, measures RTT and shows changing tiles', async () => {
  const device = await sim({ args: ['--name', 'Test Car', '--rate', '50'] });
  const { page, errors } = ctx.browser;
  await page.goto(device.url);
  await waitForState(page, 'connected');
  await page.waitForFunction(() => (document.querySelector('[data-testid=device-name]')?.textContent ?? '') === 'Test Car');
  await page.waitForFunction(() => /^\d+ ms$/.test((document.querySelector('[data-testid=rtt]')?.textContent ?? '')));
  await page.waitForSelector('.tile[data-series=battery_v]');
  const first = await tileValues(page);
  assert.deepEqual(Object.keys(first), [
    'battery_v', 'temp_c', 'distance_cm', 'rssi_dbm', 'wheel_l_mps', 'wheel_r_mps', 'x_m', 'y_m', 'heading_deg',
  ]);
  for (const v of Object.values(first)) assert.match(v, /^-?\d+(\.\d+)?$/);
  // Labels and units from the device's hello.
  assert.equal(await page.textContent('.tile[data-series=temp_c] .tile-name'), 'Temperature');
  assert.equal(await page.textContent('.tile[data-series=temp_c] .unit'), '°C');
  await page.waitForFunction(
    (before) => (document.querySelector('.tile[data-series=distance_cm] .tile-value .num')?.textContent ?? '') !== before,
    first.distance_cm,
  );
  const rate = Number((await page.textContent('[data-testid=rate]')).replace('/s', ''));
  assert.ok(rate > 0, `message rate ${rate}`);
  const state = await device.state();
  assert.ok(state.pings_answered >= 1, 'the app pings the device');
  assert.equal(state.clients, 1, 'exactly one socket');
  assert.deepEqual(errors, []);
});

test('shows reconnecting within 3.5 s of losing the device and reconnects within 1 s of its return', async () => {
  let device = await sim({ args: ['--name', 'Flaky'] });
  const { page, errors } = ctx.browser;
  await page.goto(device.url);
  await waitForState(page, 'connected');
  const killedAt = Date.now();
  await device.kill();
  const sawReconnecting = await waitForState(page, 'reconnecting', 3500);
  assert.ok(sawReconnecting - killedAt <= 3500);
  device = await sim({ port: device.port, args: ['--name', 'Flaky'] });
  const connectedAt = await waitForState(page, 'connected', 5000);
  assert.ok(connectedAt - device.listeningAt <= 1000, `reconnected ${connectedAt - device.listeningAt} ms after the device listened`);
  await page.waitForSelector('.tile[data-series=temp_c]');
  assert.equal((await device.state()).clients, 1, 'never two sockets at once');
  assert.deepEqual(errors, []);
});

test('garbage, binary and 1 MB frames are counted and the app goes on', async () => {
  const device = await sim({ args: ['--rate', '20'] });
  const { page, errors } = ctx.browser;
  await page.goto(`${device.url}#/device`);
  await waitForState(page, 'connected');
  await device.send('{ this is not json');
  // Not JSON and no readings: what a tutorial device answers. Ignored, and said so.
  await device.send('OK');
  await device.send('x', { repeat: 1024 * 1024 });
  await device.send('\u0000\u0001', { binary: true });
  await device.send('{"t":"tel","d":{"temp_c":"hot"},"extra":[1,{"deep":true}]}');
  await page.waitForFunction(() => (document.querySelector('[data-testid=malformed]')?.textContent ?? '') === '1');
  await page.waitForFunction(() => (document.querySelector('[data-testid=oversized]')?.textContent ?? '') === '1');
  await page.waitForFunction(() => (document.querySelector('[data-testid=event-log]')?.textContent ?? '').includes('malformed frame'));
  await page.waitForFunction(() => (document.querySelector('[data-testid=ignored]')?.textContent ?? '') === '1');
  const unused = await page.textContent('[data-testid=unused]');
  assert.ok(unused.includes('OK not telemetry: ignored'), unused);
  // Still alive: the link stays up and telemetry keeps flowing.
  const frames = Number(await page.textContent('[data-testid=frames]'));
  await page.waitForFunction((n) => Number((document.querySelector('[data-testid=frames]')?.textContent ?? '')) > n + 5, frames);
  assert.equal(await page.getAttribute('[data-testid=status]', 'data-state'), 'connected');
  await page.click('text=Charts');
  await page.waitForSelector('.tile[data-series=temp_c]');
  assert.deepEqual(errors, []);
});

test('a device without hello that sends bare objects or bare numbers still gets tiles', async () => {
  const page_host = await sim({ args: ['--rate', '0'] });
  // Devices accept the app from another origin only when told to (see docs/SECURITY.md).
  const allow = ['--allow-origin', `http://127.0.0.1:${page_host.port}`];
  const bare = await sim({ args: ['--no-hello', '--format', 'bare', ...allow] });
  const number = await sim({ args: ['--no-hello', '--format', 'number', ...allow] });
  const { page, errors } = ctx.browser;
  // ?ws= points the app at another device than the one that served it.
  await page.goto(`${page_host.url}?ws=${encodeURIComponent(bare.wsUrl)}`);
  await waitForState(page, 'connected');
  await page.waitForSelector('.tile[data-series=battery_v]');
  assert.equal(await page.textContent('[data-testid=device-name]'), `127.0.0.1:${bare.port}`);
  assert.equal((await bare.state()).clients, 1);
  assert.equal((await page_host.state()).clients, 0);

  // An address typed in Settings is used at once and remembered.
  await page.goto(`${page_host.url}#/settings`);
  await waitForState(page, 'connected');
  await page.fill('#ws-url', `127.0.0.1:${number.port}`);
  await page.click('button[type=submit]');
  await page.waitForFunction((u) => (document.querySelector('[data-testid=current-url]')?.textContent ?? '') === u, number.wsUrl);
  await page.goto(`${page_host.url}#/charts`);
  await waitForState(page, 'connected');
  await page.waitForSelector('.tile[data-series=value]');
  assert.equal((await number.state()).clients, 1);

  // A bad address is explained, not used; "Use default" goes back to the page's own device.
  await page.goto(`${page_host.url}#/settings`);
  await page.fill('#ws-url', 'ftp://nope');
  await page.click('button[type=submit]');
  await page.waitForFunction(() => (document.querySelector('[data-testid=url-error]')?.textContent ?? '').includes('ws://'));
  await page.click('text=Use default');
  await page.waitForFunction((u) => (document.querySelector('[data-testid=current-url]')?.textContent ?? '') === u, page_host.wsUrl);
  await waitForState(page, 'connected');
  assert.deepEqual(errors, []);
});

test('a page from another origin cannot open the control socket', async () => {
  const device = await sim({ args: ['--rate', '0'] });
  const elsewhere = await sim({ args: ['--rate', '0'] });
  const { page } = ctx.browser;
  // A page served from another loopback port (another origin) tries to take the device over.
  await page.goto(`${elsewhere.url}#/settings`);
  const outcome = await page.evaluate(
    (url) =>
      new Promise((resolve) => {
        const ws = new WebSocket(url);
        ws.onopen = () => resolve('open');
        ws.onclose = () => resolve('refused');
      }),
    device.wsUrl,
  );
  assert.equal(outcome, 'refused');
  assert.equal((await device.state()).connections_total, 0);
  // The device's own page connects as always.
  await page.goto(device.url);
  await waitForState(page, 'connected');
});
