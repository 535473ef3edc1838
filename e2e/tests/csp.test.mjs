// The app runs under the Content-Security-Policy the simulator (and the reference firmware) send:
// no inline script but Trunk's bootstrap by its hash, no inline style, wasm allowed. Every page is
// used and not one violation may be reported.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { chart, suite, waitForState } from '../lib/harness.mjs';

const ctx = suite({ before, after });

test('every page works under the CSP, with zero violations', async () => {
  const device = await ctx.sim({ args: ['--rate', '50'] });
  const page = await ctx.browser.context.newPage();
  const violations = [];
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
  });
  try {
    await page.addInitScript(() => {
      window.__csp = [];
      document.addEventListener('securitypolicyviolation', (e) =>
        window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sample}`));
    });
    const response = await page.goto(`${device.url}#/charts`);
    const policy = response.headers()['content-security-policy'];
    assert.ok(policy, 'the page comes with a policy');
    assert.match(policy, /script-src 'self' 'sha256-[A-Za-z0-9+/=]+' 'wasm-unsafe-eval'/);
    assert.doesNotMatch(policy, /unsafe-inline|'unsafe-eval'/);
    await waitForState(page, 'connected');

    // Charts: crosshair, pause, arrange, CSV.
    const sel = chart('temp_c');
    await page.waitForSelector(sel);
    const box = await (await page.$(sel)).boundingBox();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.click('[data-testid=pause]');
    await page.click('[data-testid=arrange]');
    await page.selectOption('.arrange-row[data-series=temp_c] select', 'distance_cm');
    const download = page.waitForEvent('download');
    await page.click('[data-testid=csv]');
    await download;
    // Drive: arm, a touch on the pad, STOP.
    await page.goto(`${device.url}#/drive`);
    await page.click('[data-testid=arm]');
    await page.waitForSelector('[data-testid=drive][data-arming=armed]');
    const pad = await (await page.$('.pad')).boundingBox();
    await page.mouse.click(pad.x + pad.width / 2, pad.y + pad.height / 3);
    await page.goto(`${device.url}#/device`);
    await page.waitForTimeout(300);
    await page.goto(`${device.url}#/settings`);
    await page.waitForTimeout(300);
    assert.deepEqual(await page.evaluate(() => window.__csp), []);
    assert.deepEqual(violations, []);
  } finally {
    await page.close();
  }
});
