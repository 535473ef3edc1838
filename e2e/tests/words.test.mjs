// Tutorial cars and buttons-only devices, with real touch in Chromium: the plain words, the extra
// words and the dialect are kept per device address, STOP vibrates in words too, and a device that
// sends plain text and never said hello is offered words with one tap.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { after, before, test } from 'node:test';
import { centre, suite, touchscreen, until, waitForState } from '../lib/harness.mjs';

const ctx = suite({ before, after });
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** axe's critical and serious findings on the page as it is now, in both themes, one line each. */
async function axeFindings(page) {
  const found = [];
  for (const colorScheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme });
    const violations = await page.evaluate(async () => (await window.axe.run(document)).violations);
    for (const v of violations.filter((v) => v.impact === 'critical' || v.impact === 'serious')) {
      found.push(`${colorScheme}: ${v.id} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
    }
  }
  await page.emulateMedia({ colorScheme: 'light' });
  return found;
}
const sim = (args = []) => ctx.sim({ args });

/** Every frame the device got from the app that the person caused (heartbeats left out). */
const heard = async (device) =>
  (await device.state()).recent_frames.map((f) => f.frame).filter((f) => !f.includes('"ping"'));

/** The newest frame the device got that the person caused: `{ frame, at_ms }`. */
const newest = async (device) =>
  (await device.state()).recent_frames.filter((f) => !f.frame.includes('"ping"')).at(-1);

/** Saves the Driving form of Settings for the device the app is connected to now. */
async function saveDriving(page, { words, extra = '', onConnect = '' }) {
  await page.goto(page.url().replace(/#.*$/, '#/settings'));
  await page.waitForSelector('#drive-words');
  await page.setChecked('#words-on', words !== undefined);
  if (words !== undefined) await page.fill('#drive-words', words);
  await page.fill('#drive-extra', extra);
  await page.fill('#drive-on-connect', onConnect);
  await page.click('form:has(#drive-rate) button[type=submit]');
  await page.waitForFunction(() =>
    (document.querySelector('[data-testid=drive-settings-message]')?.textContent ?? '').startsWith('Saved'),
  );
}

/** Pushes the stick forward, waits for `word` at the car, lets go and waits for `stop`. */
async function forwardAndBack(page, device, word, stop) {
  const touch = await touchscreen(page);
  const pad = await centre(page, '.pad');
  await touch.press(1, pad);
  await touch.move(1, { x: pad.x, y: pad.y - pad.r * 0.7 });
  await until(`"${word}"`, async () => (await device.car()).last_command === word);
  await touch.lift(1);
  await until(`"${stop}"`, async () => (await device.car()).last_command === stop);
}

async function armWords(page) {
  await page.goto(page.url().replace(/#.*$/, '#/drive'));
  await waitForState(page, 'connected');
  await page.click('[data-testid=arm]');
  await page.waitForSelector('[data-testid=drive][data-arming=armed]');
}

test('a tutorial car gets its words by touch, its STOP vibrates, and its extra words are buttons', async () => {
  const device = await sim(['--dialect', 'text', '--no-hello']);
  const { page, errors } = ctx.browser;
  await page.addInitScript({ content: AXE });
  await page.addInitScript(() => {
    window.vibrations = [];
    navigator.vibrate = (ms) => (window.vibrations.push(ms), true);
  });
  await page.goto(`${device.url}#/settings`);
  await saveDriving(page, { words: 'up, down, left, right, stop', extra: 'slow-speed, normal-speed, fast-speed' });

  await armWords(page);
  // The extra words: a group of buttons named by their words, 44 px or more, sent when tapped.
  // (Tapped before the pad is touched: a finger lifted by the harness's touch screen can leave
  // Chromium's gesture detector thinking it is still down, and a second finger makes no click.)
  const group = page.getByRole('group', { name: 'Device commands' });
  const fast = group.getByRole('button', { name: 'fast-speed' });
  const box = await fast.boundingBox();
  assert.ok(box.width >= 44 && box.height >= 44, `touch target ${box.width}×${box.height}`);
  await fast.tap();
  await until('"fast-speed" at the car', async () => (await newest(device)).frame === 'fast-speed');
  assert.equal(await fast.getAttribute('aria-pressed'), 'true');
  assert.equal(await group.getByRole('button', { name: 'slow-speed' }).getAttribute('aria-pressed'), 'false');
  assert.deepEqual(await axeFindings(page), [], 'the extra words pass axe');

  await page.evaluate(() => (window.vibrations = []));
  await forwardAndBack(page, device, 'up', 'stop');
  await until('a vibration for the stop', () => page.evaluate(() => window.vibrations.includes(30)));
  // The big STOP button sends the stop word too, and vibrates.
  const lifted = await newest(device);
  await page.evaluate(() => (window.vibrations = []));
  await page.dispatchEvent('[data-testid=stop]', 'pointerdown');
  await until('STOP vibrates', () => page.evaluate(() => window.vibrations.includes(30)));
  await until('the stop word again', async () => {
    const last = await newest(device);
    return last.frame === 'stop' && last.at_ms > lifted.at_ms;
  });

  // Nothing but what the person did reached the car: no JSON drive, claim or release.
  const frames = await heard(device);
  assert.deepEqual(
    frames.filter((f) => f.startsWith('{')),
    [],
    `JSON sent to a car that takes words: ${frames.join(' | ')}`,
  );
  assert.ok(frames.includes('up') && frames.includes('stop') && frames.includes('fast-speed'), frames.join(' | '));
  assert.deepEqual(errors, []);
});

test('the words follow the address: another device has its own', async () => {
  const first = await sim(['--dialect', 'text', '--no-hello']);
  const origin = first.url.replace(/\/$/, '');
  const second = await sim(['--dialect', 'text', '--no-hello', '--allow-origin', origin]);
  const { page, errors } = ctx.browser;
  await page.goto(`${first.url}#/settings`);
  await saveDriving(page, { words: 'up, down, left, right, stop', extra: 'horn' });

  // Another address in Settings: the form switches to that device's own (empty) settings.
  await page.fill('#ws-url', second.wsUrl);
  await page.click('form:has(#ws-url) button[type=submit]');
  await page.waitForFunction(
    (url) => (document.querySelector('[data-testid=prefs-url]')?.textContent ?? '') === url,
    second.wsUrl,
  );
  assert.equal(await page.isChecked('#words-on'), false, 'the second device has no words yet');
  assert.equal(await page.inputValue('#drive-extra'), '');
  await saveDriving(page, { words: 'F, B, L, R, S' });
  await armWords(page);
  assert.equal(await page.locator('[data-testid=extra-words]').count(), 0, 'no extra words for this one');
  await forwardAndBack(page, second, 'F', 'S');

  // Back to the first: its words and its button again.
  await page.goto(`${first.url}#/settings`);
  await page.click('form:has(#ws-url) button.secondary');
  await page.waitForFunction(
    (url) => (document.querySelector('[data-testid=prefs-url]')?.textContent ?? '') === url,
    first.wsUrl,
  );
  assert.equal(await page.inputValue('#drive-words'), 'up, down, left, right, stop');
  await armWords(page);
  await page.getByRole('button', { name: 'horn' }).waitFor();
  await forwardAndBack(page, first, 'up', 'stop');
  assert.ok(!(await heard(first)).includes('F'), 'the first car never got the second one\'s words');
  assert.deepEqual(errors, []);
});

test('a device that sends plain text and never said hello is offered plain words', async () => {
  const device = await sim(['--profile', 'text-frames']);
  const { page, errors } = ctx.browser;
  await page.goto(`${device.url}#/settings`);
  const offer = page.getByRole('group', { name: 'This device takes plain words?' });
  await offer.waitFor({ timeout: 10_000 });
  assert.deepEqual(await axeFindings(page), [], 'the offer passes axe');
  await offer.getByRole('button', { name: 'forward, reverse, left, right, stop' }).tap();
  await page.waitForFunction(() =>
    (document.querySelector('[data-testid=drive-settings-message]')?.textContent ?? '').includes('forward, reverse'),
  );
  assert.equal(await offer.count(), 0, 'asked once: the person chose');
  assert.equal(await page.isChecked('#words-on'), true);
  // Remembered for this address.
  await page.reload();
  await page.waitForSelector('#drive-words');
  assert.equal(await page.inputValue('#drive-words'), 'forward, reverse, left, right, stop');
  assert.equal(await page.locator('[data-testid=words-offer]').count(), 0);
  assert.deepEqual(errors, []);
});

test('a tutorial car that answers OK to every command drives on its words and keeps its link', async () => {
  const device = await sim(['--profile', 'tutorial-car']);
  const { page, errors } = ctx.browser;
  await page.goto(`${device.url}#/settings`);
  await saveDriving(page, { words: 'forward, reverse, left, right, stop' });
  await armWords(page);
  await forwardAndBack(page, device, 'forward', 'stop');
  await forwardAndBack(page, device, 'forward', 'stop');
  const state = await device.state();
  assert.equal(state.unexpected_closes, 0, `the car dropped the link after ${JSON.stringify(state.recent_unexpected)}`);
  assert.deepEqual(errors, []);
});

test('a message set to send on connect goes out when saved and each time the link opens, and only then', async () => {
  const device = await sim(['--profile', 'string-readings']);
  const { page, errors } = ctx.browser;
  await page.goto(`${device.url}#/settings`);
  await waitForState(page, 'connected');
  await saveDriving(page, { onConnect: 'getReadings' });
  // Saved while connected, it goes out at once: the device is waiting for it on this link.
  const count = async () => (await heard(device)).filter((f) => f === 'getReadings').length;
  await until('getReadings at the device when saved', async () => (await count()) === 1);
  await until('the readings it then sends', async () => (await device.state()).last_telemetry);
  assert.match(await page.textContent('[data-testid=drive-settings-message]'), /Sent `getReadings` now/);
  // Saving it again unchanged sends nothing more.
  await saveDriving(page, { onConnect: 'getReadings' });
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(await count(), 1, 'saving the same message again sends nothing');
  await page.reload();
  await waitForState(page, 'connected');
  await until('getReadings on the new connection', async () => (await count()) === 2);
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(await count(), 2, 'once per connection');
  assert.deepEqual(errors, []);
});
