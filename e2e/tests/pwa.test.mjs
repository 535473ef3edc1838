// The installable app: on http://127.0.0.1 (a secure context) the service worker precaches
// exactly the built files, the app opens from that cache without the device or any network and
// says so, a new build is offered as "Update available · Reload", and the manifest's icons load.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { launch, startSim, waitForState } from '../lib/harness.mjs';

const DIST = process.env.WSDECK_DIST;
const sims = [];
const temps = [];
let browser = null;

before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
  for (const s of sims) await s.kill();
  for (const t of temps) rmSync(t, { recursive: true, force: true });
});

async function sim(opts) {
  const s = await startSim(opts);
  sims.push(s);
  return s;
}

/** Every file of a dist directory, relative, with `/`. */
function distFiles(dir, prefix = '') {
  return readdirSync(path.join(dir, prefix), { withFileTypes: true }).flatMap((e) => {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    return e.isDirectory() ? distFiles(dir, rel) : [rel];
  });
}

const versionOf = (sw) => sw.match(/const VERSION = "([0-9a-f]{16})";/)?.[1];

/** Waits for an active service worker and returns what its caches hold: { name: [paths] }. */
async function cached(page) {
  return page.evaluate(async () => {
    await navigator.serviceWorker.ready;
    const out = {};
    for (const name of await caches.keys()) {
      const cache = await caches.open(name);
      out[name] = (await cache.keys()).map((r) => new URL(r.url).pathname.slice(1)).sort();
    }
    return out;
  });
}

/** Loads the page and waits until the service worker is active and controls it. */
async function controlled(page, url) {
  await page.goto(url);
  await page.evaluate(() => navigator.serviceWorker.ready);
  await page.reload();
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
}

test('first load stays small; then the service worker precaches exactly the built files', async () => {
  const device = await sim();
  const fresh = await launch();
  const { page, errors } = fresh;
  try {
    // What the browser fetches for the page itself (the service worker's own fetches aside).
    const requests = [];
    fresh.context.on('request', (r) => {
      if (!r.serviceWorker()) requests.push(new URL(r.url()).pathname);
    });
    await page.goto(device.url);
    await waitForState(page, 'connected');
    // The chunks come after the first value (chunks.test.mjs checks when): on a slow machine the
    // state may read connected only after they were asked for.
    const firstLoad = requests.filter((p) => !p.startsWith('/chunk-'));
    const caches = await cached(page);
    const sw = readFileSync(path.join(DIST, 'sw.js'), 'utf8');
    const version = versionOf(sw);
    assert.ok(version, 'dist/sw.js names its version');
    assert.deepEqual(Object.keys(caches), [`wsdeck-${version}`]);
    const expected = distFiles(DIST).filter((f) => f !== 'sw.js').sort();
    assert.deepEqual(caches[`wsdeck-${version}`], expected);
    // index.html (CSS and favicon inline), JS, wasm; Chromium's install check adds the manifest and
    // its SVG icon. The worker and its precache come after load.
    console.log(`first load: ${firstLoad.length} requests: ${firstLoad.join(' ')}`);
    assert.ok(firstLoad.length <= 5, `first load made ${firstLoad.length} requests: ${firstLoad.join(' ')}`);
    assert.ok(!firstLoad.some((p) => p.endsWith('.png')), 'no icon is fetched to show the page');

    // The simulator serves the worker and manifest as firmware does: revalidated every time.
    for (const [file, mime] of [['sw.js', 'text/javascript'], ['manifest.webmanifest', 'application/manifest+json']]) {
      const res = await fetch(`${device.url}${file}`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('cache-control'), 'no-cache', file);
      assert.ok(res.headers.get('content-type').startsWith(mime), `${file}: ${res.headers.get('content-type')}`);
    }
    await page.goto(`${device.url}#/settings`);
    assert.match(await page.textContent('[data-testid=install-hint]'), /Install it from the browser's menu/);
    assert.deepEqual(errors, []);
  } finally {
    await fresh.close();
  }
});

test('without the device, and without any network, the app opens from the cache and says why it waits', async () => {
  let device = await sim({ args: ['--name', 'Car'] });
  const { page, context, errors } = browser;
  await controlled(page, device.url);
  await waitForState(page, 'connected');

  // Away from the device: the shell opens, says the device is unreachable, offers another address.
  await device.kill();
  await page.reload();
  await page.waitForSelector('[data-testid=status]');
  await page.waitForFunction(
    () => /^Device unreachable · attempt \d+/.test((document.querySelector('[data-testid=link-state]')?.textContent ?? '')),
    null,
    { timeout: 10_000 },
  );
  await page.click('[data-testid=change-device]');
  await page.waitForSelector('#ws-url');
  assert.equal(await page.evaluate(() => location.hash), '#/settings');

  // No network at all (airplane mode): the same shell, and the status says what it waits for.
  await context.setOffline(true);
  await page.reload();
  await waitForState(page, 'offline');
  assert.equal(await page.textContent('[data-testid=link-state]'), 'Offline · retrying when the network is back');
  assert.ok(await page.isVisible('[data-testid=change-device]'));

  // Network and device back: it connects without a reload.
  await context.setOffline(false);
  device = await sim({ port: device.port, args: ['--name', 'Car'] });
  await waitForState(page, 'connected', 15_000);
  await page.waitForFunction(() => (document.querySelector('[data-testid=device-name]')?.textContent ?? '') === 'Car');
  assert.deepEqual(errors, []);
});

test('a new build is offered as an update, and Reload brings it in', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'wsdeck-dist-'));
  temps.push(dir);
  cpSync(DIST, dir, { recursive: true });
  let device = await sim({ args: ['--dist', dir] });
  const fresh = await launch();
  const { page, errors } = fresh;
  try {
    await controlled(page, device.url);
    assert.equal(await page.$('[data-testid=update-prompt]'), null, 'the first install is not an update');

    // A new build: another index.html, and the service worker the build step writes for it.
    const oldVersion = versionOf(readFileSync(path.join(dir, 'sw.js'), 'utf8'));
    const html = readFileSync(path.join(dir, 'index.html'), 'utf8');
    writeFileSync(path.join(dir, 'index.html'), html.replace('<title>', '<meta name=build content=next><title>'));
    const newVersion = 'feedfacecafe0001';
    const sw = readFileSync(path.join(dir, 'sw.js'), 'utf8');
    writeFileSync(path.join(dir, 'sw.js'), sw.replace(`"${oldVersion}"`, `"${newVersion}"`));
    await device.kill();
    device = await sim({ port: device.port, args: ['--dist', dir] });

    await page.evaluate(async () => (await navigator.serviceWorker.getRegistration()).update());
    await page.waitForSelector('[data-testid=update-prompt]', { timeout: 10_000 });
    assert.match(await page.textContent('[data-testid=update-prompt]'), /Update available/);
    // Waiting, not taken over: the page still runs the old build.
    assert.equal(await page.$('meta[name=build]'), null);

    await Promise.all([page.waitForEvent('load'), page.click('[data-testid=update-reload]')]);
    await page.waitForSelector('meta[name=build][content=next]', { state: 'attached' });
    await waitForState(page, 'connected');
    assert.deepEqual(Object.keys(await cached(page)), [`wsdeck-${newVersion}`], 'the old cache is gone');
    assert.equal(await page.$('[data-testid=update-prompt]'), null);
    assert.deepEqual(errors, []);
  } finally {
    await fresh.close();
  }
});

test('over plain http from a device address the app works, registers nothing, and says why it cannot install', async () => {
  // A name that is not localhost makes an insecure context, like http://192.168.4.1/ from a
  // phone; Chromium resolves it to loopback, so the test still talks only to this computer.
  const device = await sim({ args: ['--allow-host', 'car.test'] });
  const insecure = await launch({ args: ['--host-resolver-rules=MAP car.test 127.0.0.1'] });
  const { page, errors } = insecure;
  try {
    await page.goto(`http://car.test:${device.port}/#/settings`);
    await waitForState(page, 'connected');
    assert.equal(await page.evaluate(() => window.isSecureContext), false);
    assert.equal(await page.evaluate(() => 'serviceWorker' in navigator), false);
    assert.equal(
      await page.textContent('[data-testid=install-hint]'),
      'Install needs https or localhost: opened from the device over http, the app works but cannot be installed or opened offline.',
    );
    assert.deepEqual(errors, []);
  } finally {
    await insecure.close();
  }
});

test('the manifest is valid and every icon loads with its type and size', async () => {
  const device = await sim();
  const res = await fetch(`${device.url}manifest.webmanifest`);
  assert.equal(res.headers.get('content-type'), 'application/manifest+json');
  const manifest = await res.json();
  assert.equal(manifest.name, 'wsdeck');
  assert.ok(manifest.short_name && manifest.description);
  assert.equal(manifest.display, 'standalone');
  assert.equal(manifest.start_url, './');
  assert.equal(manifest.scope, './');
  // The dark theme's background, from the stylesheet inlined into index.html.
  const html = readFileSync(path.join(DIST, 'index.html'), 'utf8');
  const darkBg = html.match(/--bg:\s*(#[0-9a-f]{6})/)[1];
  assert.equal(manifest.background_color, darkBg);
  assert.equal(manifest.theme_color, darkBg);

  const purposes = new Set();
  for (const icon of manifest.icons) {
    const r = await fetch(new URL(icon.src, res.url));
    assert.equal(r.status, 200, icon.src);
    assert.equal(r.headers.get('content-type'), icon.type, icon.src);
    const body = Buffer.from(await r.arrayBuffer());
    if (icon.type === 'image/png') {
      const [w, h] = [body.readUInt32BE(16), body.readUInt32BE(20)];
      assert.equal(`${w}x${h}`, icon.sizes, icon.src);
      assert.ok(body.length < 8 * 1024, `${icon.src} is ${body.length} bytes`);
    } else {
      assert.match(body.toString('utf8'), /^<svg /);
    }
    purposes.add(`${icon.purpose} ${icon.sizes}`);
  }
  for (const needed of ['any 192x192', 'any 512x512', 'maskable 512x512', 'any any']) assert.ok(purposes.has(needed), needed);

  // Chromium agrees: the page is installable.
  const { page, context } = browser;
  await page.goto(device.url);
  await page.evaluate(() => navigator.serviceWorker.ready);
  const cdp = await context.newCDPSession(page);
  const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
  assert.deepEqual(installabilityErrors, []);
  const { url, errors } = await cdp.send('Page.getAppManifest');
  assert.ok(url.endsWith('/manifest.webmanifest'));
  assert.deepEqual(errors, []);
});
