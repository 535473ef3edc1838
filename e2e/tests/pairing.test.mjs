// A device with a pairing token: the app asks for it once, remembers it for that device's address,
// shows nothing and cannot arm until paired; a wrong token is refused and the wait is shown.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { suite, until, waitForState } from '../lib/harness.mjs';

const ctx = suite({ before, after });

test('the app asks for the token, waits out a wrong one, pairs, and remembers it', async () => {
  const device = await ctx.sim({ args: ['--rate', '20', '--token', 'blue-tiger-42', '--name', 'Locked car'] });
  const { page, errors } = ctx.browser;
  await page.goto(`${device.url}#/drive`);
  await waitForState(page, 'connected');
  await page.waitForSelector('[data-testid=pairing]:not([hidden])');
  assert.match(await page.textContent('[data-testid=pairing-message]'), /Locked car asks for its pairing token/);
  assert.equal(await page.$eval('[data-testid=arm]', (b) => b.disabled), true, 'no arming before pairing');
  await page.goto(`${device.url}#/charts`);
  await page.waitForTimeout(500);
  assert.equal(await page.$$eval('.tile', (t) => t.length), 0, 'the device shows nothing before pairing');

  await page.fill('[data-testid=pairing-token]', 'guess');
  await page.click('[data-testid=pairing-submit]');
  await until('the refusal', async () => /wrong/.test(await page.textContent('[data-testid=pairing-message]')));
  assert.equal(await page.$eval('[data-testid=pairing-submit]', (b) => b.disabled), true, 'the wait is respected');
  await until('the wait to pass', () => page.$eval('[data-testid=pairing-submit]', (b) => !b.disabled), 5000);
  await page.fill('[data-testid=pairing-token]', 'blue-tiger-42');
  await page.click('[data-testid=pairing-submit]');
  await page.waitForSelector('[data-testid=pairing]', { state: 'hidden' });
  await page.waitForSelector('.tile[data-series=temp_c]');
  assert.equal((await device.state()).wrong_tokens, 1);

  // Remembered for this address: a reload pairs by itself, and driving works.
  await page.goto(`${device.url}#/drive`);
  await page.reload();
  await waitForState(page, 'connected');
  await page.waitForSelector('[data-testid=arm]:not([disabled])');
  assert.equal(await page.$eval('[data-testid=pairing]', (f) => f.hidden), true);
  await page.click('[data-testid=arm]');
  await page.waitForSelector('[data-testid=drive][data-arming=armed]');
  assert.deepEqual(errors, []);
});

test('with --token-read-only anyone watches; driving still needs the token', async () => {
  const device = await ctx.sim({ args: ['--rate', '20', '--token', 's3cret', '--token-read-only', '--name', 'Shared car'] });
  const page = await ctx.browser.context.newPage();
  try {
    await page.goto(`${device.url}#/charts`);
    await waitForState(page, 'connected');
    await page.waitForSelector('.tile[data-series=temp_c]');
    assert.match(await page.textContent('[data-testid=pairing-message]'), /before it can be driven. You can watch/);
    await page.goto(`${device.url}#/drive`);
    // The Drive page comes in a chunk: wait for it rather than read the DOM the moment the hash changes.
    await page.waitForSelector('[data-testid=arm]');
    assert.equal(await page.$eval('[data-testid=arm]', (b) => b.disabled), true);
  } finally {
    await page.close();
  }
});
