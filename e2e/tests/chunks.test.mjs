// Pages that load on demand (src/shell/chunks.rs, xtask/src/split.rs): the first screen (status
// bar, tiles with live values) needs no chunk; a page's chunk is fetched when it is opened, with
// "Loading…" meanwhile; a chunk that cannot be fetched says so with Retry, which then works; and
// after the first value every chunk is fetched in the background. Skipped on a build that was
// not split (WSDECK_SPLIT=0).
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { suite, until, waitForState } from '../lib/harness.mjs';

const ctx = suite({ before, after });
const isChunkName = (url) => /\/chunk-[a-z0-9-]+-[0-9a-f]{16}\.wasm$/.test(url);
const isChunk = isChunkName;
const split = readdirSync(process.env.WSDECK_DIST).some((f) => isChunkName(`/${f}`));

/**
 * A new page, with the wasm files it fetched. Each test has its own simulator, so its own origin:
 * no service worker controls the page yet (the worker does not claim it), and page.route sees
 * every fetch of a chunk.
 */
async function fresh() {
  const page = await ctx.browser.context.newPage();
  const fetched = [];
  page.on('request', (r) => {
    if (r.url().endsWith('.wasm')) fetched.push({ url: r.url(), at: Date.now() });
  });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error' && /panicked|unreachable|RuntimeError/.test(m.text())) errors.push(m.text());
  });
  return { page, fetched, errors, close: () => page.close() };
}

test('the first screen shows live values before any chunk, which come after it', { skip: !split }, async () => {
  const device = await ctx.sim();
  const { page, fetched, errors, close } = await fresh();
  try {
    // When the first tile shows a value, by the page's own clock (as resource timings are).
    await page.addInitScript(() => {
      new MutationObserver((_, observer) => {
        const num = document.querySelector('[data-testid=tiles] .tile .num');
        if (num && /\d/.test(num.textContent)) {
          window.__firstValue = performance.now();
          observer.disconnect();
        }
      }).observe(document, { subtree: true, childList: true, characterData: true });
    });
    await page.goto(device.url);
    await waitForState(page, 'connected');
    await page.waitForFunction(() => window.__firstValue !== undefined);
    // The charts card of the home page, then the other pages, in the background.
    await page.locator('[data-testid=legend]').waitFor({ timeout: 15_000 });
    const chunks = readdirSync(process.env.WSDECK_DIST).filter((f) => isChunk(`/${f}`));
    await until(
      'every chunk fetched',
      async () => chunks.every((c) => fetched.some((f) => f.url.endsWith(`/${c}`))),
      15_000,
    );
    const { firstValue, starts } = await page.evaluate(() => ({
      firstValue: window.__firstValue,
      starts: performance.getEntriesByType('resource').map((e) => ({ name: e.name, start: e.startTime })),
    }));
    const early = starts.filter((s) => isChunkName(s.name) && s.start <= firstValue);
    assert.deepEqual(early, [], `no chunk before the first value (at ${firstValue} ms)`);
    // Opened now, a page is there at once.
    await page.locator('nav.tabs a[href="#/drive"]').click();
    await page.locator('[data-testid=drive]').waitFor({ timeout: 2000 });
    assert.equal(await page.locator('[data-testid=chunk-loading]').count(), 0);
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});

test('a page opened first shows Loading, then itself', { skip: !split }, async () => {
  const device = await ctx.sim();
  const { page, errors, close } = await fresh();
  let release;
  const held = new Promise((resolve) => (release = resolve));
  try {
    await page.route(isChunk, async (route) => {
      await held;
      await route.continue();
    });
    await page.goto(`${device.url}#/settings`);
    await waitForState(page, 'connected');
    await page.locator('[data-testid=chunk-loading]').waitFor();
    assert.match(await page.locator('[data-testid=chunk-loading]').innerText(), /Loading/);
    release();
    await page.locator('[data-testid=chunk-loading]').waitFor({ state: 'detached', timeout: 10_000 });
    assert.equal(await page.locator('main.page[data-page=settings] .card').count() > 0, true);
    assert.deepEqual(errors, []);
  } finally {
    release();
    await close();
  }
});

test('a chunk that cannot be fetched says so, and Retry loads it', { skip: !split }, async () => {
  const device = await ctx.sim();
  const { page, errors, close } = await fresh();
  try {
    await page.route(isChunk, (route) => route.abort('internetdisconnected'));
    await page.goto(`${device.url}#/drive`);
    await waitForState(page, 'connected');
    const failed = page.locator('[data-testid=chunk-failed]');
    await failed.waitFor({ timeout: 10_000 });
    assert.match(await failed.innerText(), /could not be loaded/);
    // The rest of the app runs on: the status bar, the tabs, another page's tiles.
    await page.locator('nav.tabs a[href="#/charts"]').click();
    await page.locator('[data-testid=tiles] .tile').first().waitFor();
    await page.locator('nav.tabs a[href="#/drive"]').click();
    await failed.waitFor();
    await page.unroute(isChunk);
    await failed.locator('button').click();
    await page.locator('[data-testid=drive]').waitFor({ timeout: 10_000 });
    assert.deepEqual(errors, []);
  } finally {
    await close();
  }
});
