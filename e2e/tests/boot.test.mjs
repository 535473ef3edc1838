// While the wasm arrives (a device serves ~200 KiB at WiFi speed) index.html shows a loading
// screen; after 8 s it says what to do; the app removes it when it starts.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { suite, waitForState } from '../lib/harness.mjs';

const ctx = suite({ before, after });

test('a loading screen shows until the app starts, then goes', async () => {
  const device = await ctx.sim();
  const page = await ctx.browser.context.newPage();
  let release;
  const held = new Promise((resolve) => (release = resolve));
  try {
    // The wasm is held back: the page is what a slow link shows.
    await page.route('**/*.wasm', async (route) => {
      await held;
      await route.continue();
    });
    await page.goto(device.url, { waitUntil: 'domcontentloaded' });
    const boot = page.locator('#boot');
    await boot.waitFor({ state: 'visible' });
    assert.match(await boot.innerText(), /wsdeck\s+Loading/);
    const late = page.locator('#boot .late');
    assert.equal(await late.isVisible(), false, 'the "still loading" line waits');
    // Its 8 s delay, skipped: it shows by CSS alone.
    await page.evaluate(() => {
      for (const a of document.getAnimations()) a.currentTime = 8001;
    });
    await late.waitFor({ state: 'visible' });
    assert.match(await late.innerText(), /Reload/);

    release();
    await waitForState(page, 'connected');
    assert.equal(await page.locator('#boot').count(), 0, 'the app removes the loading screen');
    assert.equal(await page.locator('.app').count(), 1);
  } finally {
    release();
    await page.close();
  }
});
