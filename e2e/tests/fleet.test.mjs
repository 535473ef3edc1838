// Fleet mode in Chromium against a real mosquitto started here (docs/FLEET.md; the app itself
// is served by a wsdeck-sim): 20 simulated
// devices appear on the Fleet page; one is driven by touch through the broker and its wheels stop
// on release and, when the driving phone's link to the broker goes silent, by the device's
// watchdog (seen by a second phone watching the same device); a broker restart is survived by the
// app and the devices; killed without a clean disconnect, the devices show offline by their last
// will. Needs Debian's mosquitto (`cargo xtask test` installs it). ACLs refusing a device that
// speaks for another are tested in sim/tests/fleet.rs against the same broker config.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startProxy } from '../lib/proxy.mjs';
import { arm, centre, freePort, kill, launch, portOpen, start, startSim, tileValues, touchscreen, until, waitForState } from '../lib/harness.mjs';

const SIM = process.env.WSDECK_SIM;
const DIST = process.env.WSDECK_DIST;
const DEVICES = 20;
const ids = Array.from({ length: DEVICES }, (_, i) => `sim-${String(i + 1).padStart(2, '0')}`);
const APP_PASSWORD = 'e2e-app-password';
const DEVICE_PASSWORD = 'e2e-device-password';

const procs = [];
let dir;
let broker;
let mosquitto;
let fleet;
// The driving phone reaches the broker through this, so that its link can go silent.
let link;
// Serves the app: mosquitto 2.0.11's http_dir sends no Content-Type, and Chromium refuses a module
// script (and streaming wasm) without one.
let web;
const browsers = [];

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'wsdeck-fleet-'));
  broker = { mqtt: await freePort(), ws: await freePort() };
  // The same shape as sim/src/fleet_broker.rs generates for `cargo xtask fleet`.
  const passwd = path.join(dir, 'passwd');
  writeFileSync(passwd, [`deck:${APP_PASSWORD}`, ...ids.map((id) => `${id}:${DEVICE_PASSWORD}`)].join('\n') + '\n');
  chmodSync(passwd, 0o600);
  const hashed = spawnSync('/usr/bin/mosquitto_passwd', ['-U', passwd]);
  assert.equal(hashed.status, 0, String(hashed.stderr));
  const acl = ['user deck', 'topic read wsdeck/+/up', 'topic read wsdeck/+/up/+', 'topic read wsdeck/+/status', 'topic write wsdeck/+/down/+'];
  for (const id of ids) acl.push('', `user ${id}`, `topic write wsdeck/${id}/up`, `topic write wsdeck/${id}/up/+`, `topic write wsdeck/${id}/status`, `topic read wsdeck/${id}/down/+`);
  writeFileSync(path.join(dir, 'acl'), acl.join('\n') + '\n');
  const root = process.getuid?.() === 0 ? 'user root\n' : '';
  writeFileSync(
    path.join(dir, 'mosquitto.conf'),
    `per_listener_settings false\nallow_anonymous false\npersistence false\nlog_dest stdout\n${root}` +
      `password_file ${passwd}\nacl_file ${path.join(dir, 'acl')}\n` +
      `listener ${broker.mqtt} 127.0.0.1\nprotocol mqtt\n` +
      `listener ${broker.ws} 127.0.0.1\nprotocol websockets\n`,
  );
  const devicePassword = path.join(dir, 'device.password');
  writeFileSync(devicePassword, DEVICE_PASSWORD);
  chmodSync(devicePassword, 0o600);
  await startBroker();
  link = await startProxy({ target: broker.ws });
  web = await startSim();
  fleet = start(procs, SIM, ['--mqtt', `127.0.0.1:${broker.mqtt}`, '--fleet', String(DEVICES), '--mqtt-password-file', devicePassword, '--rate', '10']);
});

async function startBroker() {
  mosquitto = start(procs, '/usr/sbin/mosquitto', ['-c', path.join(dir, 'mosquitto.conf')]);
  await until('mosquitto to listen', () => portOpen(broker.ws), 5000).catch((e) => {
    throw new Error(`${e.message}\n${mosquitto.output}`);
  });
}

after(async () => {
  await link?.close();
  for (const b of browsers) await b.close();
  for (const p of procs) await kill(p);
  await web?.kill();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A phone of its own (its own client id) with the broker set (at `port`, the broker's own by
 * default), opened at `hash`; `setup(page)` runs before it opens anything. */
async function phone(hash, device, port = broker.ws, setup = async () => {}) {
  const b = await launch();
  browsers.push(b);
  await setup(b.page);
  const base = web.url;
  await b.page.goto(`${base}#/settings`);
  await b.page.evaluate(
    ({ url, password, device }) => {
      localStorage.setItem('wsdeck.broker.url', url);
      localStorage.setItem('wsdeck.broker.user', 'deck');
      localStorage.setItem('wsdeck.broker.password', password);
      if (device) localStorage.setItem('wsdeck.ws_url', `${url}#${device}`);
    },
    { url: `ws://127.0.0.1:${port}/mqtt`, password: APP_PASSWORD, device },
  );
  await b.page.goto(`${base}${hash}`);
  await b.page.reload();
  return b;
}

/** The list is virtual (cards exist for the rows in view only): scrolls it from top to bottom and
 * says which devices showed as `state` on the way, and the most cards there were at once; then
 * back to the top. */
async function cardsIn(page, state) {
  return page.evaluate(async (state) => {
    const scroller = document.querySelector('.page');
    const seen = new Set();
    let most = 0;
    if (!scroller) return { ids: [], most };
    for (let y = 0; ; y += scroller.clientHeight / 2) {
      scroller.scrollTop = y;
      await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
      const cards = [...document.querySelectorAll('[data-testid=fleet-card]')];
      most = Math.max(most, cards.length);
      for (const c of cards) if (c.dataset.online === state) seen.add(c.dataset.id);
      if (y >= scroller.scrollHeight - scroller.clientHeight) break;
    }
    scroller.scrollTop = 0;
    return { ids: [...seen].sort(), most };
  }, state);
}
const onlineCards = async (page) => (await cardsIn(page, 'online')).ids;

// A split build (WSDECK_SPLIT=0 builds one wasm) has the broker link's code in the Fleet chunk.
const fleetChunk = (url) => /^\/chunk-fleet-[0-9a-f]+\.wasm$/.test(new URL(url).pathname);
const split = () => readdirSync(process.env.WSDECK_DIST).some((f) => fleetChunk(`http://x/${f}`));

test('a phone whose device is on the broker fetches the link code first; when it cannot, it says why and opens once it can', async (t) => {
  if (!split()) return t.skip('not a split build');
  let blocked = true;
  const { page, errors } = await phone('#/device', 'sim-02', broker.ws, (page) =>
    // The context's route: it sees the service worker's fetches too.
    page.context().route(fleetChunk, (route) => (blocked ? route.abort('internetdisconnected') : route.continue())),
  );
  const log = page.locator('[data-testid=event-log]');
  await log.filter({ hasText: "the broker link's code could not be fetched" }).waitFor({ timeout: 10_000 }).catch(async (e) => {
    throw new Error(`${e.message}; the page says: ${await page.textContent('main')}`);
  });
  assert.notEqual(await page.getAttribute('[data-testid=status]', 'data-state'), 'connected');
  // The backoff tries again, and the chunk comes this time.
  blocked = false;
  await waitForState(page, 'connected', 15_000);
  await page.goto(`${web.url}#/charts`);
  await until('telemetry from sim-02', async () => !Number.isNaN(Number((await tileValues(page)).wheel_l_mps)), 10_000);
  assert.deepEqual(errors, []);
});

test('20 devices appear; one is driven by touch through the broker and stops on release and on link loss; a broker restart is survived; killed, they show offline', async () => {
  const driver = await phone('#/fleet', undefined, link.port);
  const { page, errors } = driver;
  const seen = await until('20 devices on line', async () => {
    const on = await onlineCards(page);
    return on.length === DEVICES ? on : null;
  }, 15_000).catch(async (e) => {
    const status = await page.textContent('[data-testid=fleet-status]').catch(() => '(no status)');
    throw new Error(`${e.message}; page says "${status}"; ${await page.textContent('body')}\n${procs.map((p) => p.output).join('\n')}`);
  });
  assert.deepEqual([...seen].sort(), ids);
  // At the top, a phone's screen holds fewer than 20 cards: the others are made as they scroll in.
  await page.waitForTimeout(100);
  const atTop = await page.$$eval('[data-testid=fleet-card]', (c) => c.length);
  assert.ok(atTop < DEVICES && atTop >= 4, `${atTop} cards at the top`);
  assert.equal(await page.textContent('[data-testid=fleet-count]'), '20 devices');
  assert.match(await page.textContent('[data-testid=fleet-card][data-id=sim-03]'), /wsdeck sim 03|sim-03/);

  // A second phone watches sim-01's wheels over the broker while the first drives it.
  const watcher = await phone('#/charts', 'sim-01');
  await waitForState(watcher.page, 'connected', 15_000);
  const wheel = async () => Number((await tileValues(watcher.page)).wheel_l_mps);
  await until('the watcher to see the wheels', async () => !Number.isNaN(await wheel()), 10_000);

  await page.tap('[data-testid=fleet-card][data-id=sim-01]');
  await page.waitForFunction(() => location.hash === '#/drive');
  await waitForState(page, 'connected', 15_000);
  await arm(page);
  await page
    .waitForFunction(() => (document.querySelector('[data-testid=lease]')?.textContent ?? '') === 'You are driving.', null, { timeout: 10_000 })
    .catch(async (e) => {
      const lease = await page.textContent('[data-testid=lease]');
      await page.goto(`${web.url}#/device`);
      throw new Error(`${e.message}; lease: "${lease}"; ${await page.textContent('main')}`);
    });
  const touch = await touchscreen(page);
  const pad = await centre(page, '.pad');
  await touch.press(1, pad);
  await touch.move(1, { x: pad.x, y: pad.y - pad.r * 0.7 });
  await until('sim-01 to drive', async () => (await wheel()) > 0.1, 10_000);
  await touch.lift(1);
  await until('sim-01 to stop on release', async () => (await wheel()) === 0, 5000);

  // The driving phone's link to the broker goes silent with the finger on the pad: nothing the
  // app sends arrives, so what stops sim-01 is its own watchdog.
  await touch.press(1, pad);
  await touch.move(1, { x: pad.x, y: pad.y - pad.r * 0.7 });
  await until('sim-01 to drive again', async () => (await wheel()) > 0.1, 10_000);
  link.stall();
  await until("sim-01's watchdog to stop it", async () => (await wheel()) === 0, 5000);
  await waitForState(page, 'reconnecting', 6000);
  await page.waitForSelector('[data-testid=drive][data-arming=disarmed]');
  await touch.lift(1);
  link.resume();
  await waitForState(page, 'connected', 15_000);
  assert.equal(await wheel(), 0, 'sim-01 stays stopped after the link is back');

  // The broker restarts (it keeps nothing): the devices and both phones come back on their own.
  await kill(mosquitto);
  await waitForState(watcher.page, 'reconnecting', 6000);
  await startBroker();
  await waitForState(watcher.page, 'connected', 15_000);
  await waitForState(page, 'connected', 15_000);
  const before = await tileValues(watcher.page);
  await until('telemetry again after the restart', async () => JSON.stringify(await tileValues(watcher.page)) !== JSON.stringify(before), 10_000);

  // No clean disconnect: the broker publishes each device's last will.
  await page.goto(`${web.url}#/fleet`);
  await until('20 devices again', async () => (await onlineCards(page)).length === DEVICES, 15_000);
  await kill(fleet);
  await until('every device offline by its last will', async () => {
    return (await cardsIn(page, 'offline')).ids.length === DEVICES;
  }, 15_000);
  assert.deepEqual(errors, []);
  assert.deepEqual(watcher.errors, []);
});
