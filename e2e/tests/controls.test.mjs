// Controls a device declares (docs/PROTOCOL.md, Controls), against a device we did not write:
// e2e/devices/controls.py, written on Microdot (the pinned release, on CPython) from the protocol
// text alone. The simulator only serves the app; the page connects to the Python device with ?ws=.
// The device says over HTTP what it heard (`/state`), and can redeclare, go mute or cut the link.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { after, before, test } from 'node:test';
import { heardIn, startDevice } from '../lib/devices.mjs';
import { centre, drawnGauge, suite, touchscreen, until, waitForState } from '../lib/harness.mjs';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const REVERTED = 'No answer from the device: back to its value.';

const ctx = suite({ before, after });
const devices = [];
after(async () => {
  for (const d of devices) await d.stop();
});

/** e2e/devices/`script` on 127.0.0.1, once it answers HTTP. */
async function device(script = 'controls.py') {
  const d = await startDevice(devices, script);
  const base = d.base;
  const post = (path, body) => fetch(`${base}${path}`, { method: 'POST', body }).then((r) => r.json());
  return Object.assign(d, {
    /** `{ values, set_by, heard: [{ id, v, seq, at_ms, client }], clients }` */
    state: () => fetch(`${base}/state`).then((r) => r.json()),
    declare: (list) => post('/declare', JSON.stringify(list)),
    mute: (on) => post(`/mute?on=${on ? 1 : 0}`),
    cut: () => post('/cut'),
    heardWords: () => heardIn(d.output()),
  });
}

let server;
/** The app, served by the simulator, on `tab` (`#/…`), connected to `dev`. */
async function open(dev, tab = ctx.browser.page, hash = '#/controls') {
  server ??= await ctx.sim();
  await tab.goto(`${server.url}?ws=${encodeURIComponent(dev.wsUrl)}${hash}`);
  await waitForState(tab, 'connected');
  return tab;
}

const row = (page, id) => page.locator(`[data-ctl="${id}"]`);
/** What the device heard from the app for control `id`. */
const heard = async (dev, id) => (await dev.state()).heard.filter((h) => h.id === id);
const value = async (dev, id) => (await dev.state()).values[id];
const deviceHas = (dev, id, v) => until(`the device's ${id} to be ${JSON.stringify(v)}`, async () => (await value(dev, id)) === v);

/** Presses Tab until the focus is on `selector` (keyboard only). */
async function tabTo(page, selector) {
  for (let i = 0; i < 40; i++) {
    if (await page.evaluate((s) => document.activeElement?.matches(s), selector)) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached ${selector}`);
}

test('a toggle on phone A shows on phone B (and on its Drive page), confirmed by the device', async () => {
  const dev = await device();
  const a = await open(dev);
  const b = await open(dev, await ctx.browser.context.newPage());
  await row(b, 'lights').waitFor();
  const switchA = row(a, 'lights').getByRole('switch', { name: /Headlights/ });
  const switchB = row(b, 'lights').getByRole('switch', { name: /Headlights/ });
  assert.equal(await switchB.getAttribute('aria-checked'), 'false');
  await switchA.click();
  await deviceHas(dev, 'lights', true);
  await until('phone B shows the lights on', async () => (await switchB.getAttribute('aria-checked')) === 'true');
  await until('phone A: confirmed, no longer pending', async () => !(await row(a, 'lights').getAttribute('class')).includes('pending'));
  // The device's own reactions show too: its led and its status text.
  await until('the led on B', async () => (await row(b, 'engine').locator('.led').getAttribute('class')).includes('on'));
  await until('the status on B', async () => /lights set by client/.test(await row(b, 'status').textContent()));
  const [frame] = await heard(dev, 'lights');
  assert.equal(frame.v, true);
  assert.ok(Number.isInteger(frame.seq), JSON.stringify(frame));

  // Phone B turns them off from the Drive page, where the `drive` controls sit.
  await b.goto(b.url().replace(/#.*$/, '#/drive'));
  const drive = b.getByTestId('drive-controls');
  await drive.getByRole('switch', { name: /Headlights/ }).click();
  assert.ok(await drive.getByRole('button', { name: 'Horn' }).isVisible());
  await deviceHas(dev, 'lights', false);
  await until('phone A shows the lights off', async () => (await switchA.getAttribute('aria-checked')) === 'false');
  await b.close();
  assert.deepEqual(ctx.browser.errors, []);
});

test('a held horn is let go on blur, hidden, pagehide, pointercancel, lost capture and a cut link', async () => {
  const dev = await device();
  const page = await open(dev);
  const horn = row(page, 'horn').getByRole('button', { name: 'Horn' });
  await horn.waitFor();
  const released = async (why, since) => {
    await until(`the app's release after ${why}`, async () => {
      const frames = (await heard(dev, 'horn')).filter((h) => h.at_ms > since);
      return frames.at(-1)?.v === false && frames.some((f) => f.v === true);
    });
    assert.equal(await value(dev, 'horn'), false, why);
    await until('the horn shown let go', async () => (await horn.getAttribute('aria-pressed')) === 'false');
  };
  const paths = {
    blur: () => page.evaluate(() => window.dispatchEvent(new Event('blur'))),
    hidden: async () => {
      await page.evaluate(() => {
        Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
        document.dispatchEvent(new Event('visibilitychange'));
      });
      await page.evaluate(() => delete document.hidden);
    },
    pagehide: () => page.evaluate(() => window.dispatchEvent(new PageTransitionEvent('pagehide', { persisted: true }))),
    'lost capture': () =>
      page.evaluate(() =>
        document.querySelector('[data-ctl=horn] button').dispatchEvent(new PointerEvent('lostpointercapture', { pointerId: 1 })),
      ),
  };
  const at = await centre(page, '[data-ctl=horn] button');
  for (const [why, happen] of Object.entries(paths)) {
    const since = (await dev.state()).heard.at(-1)?.at_ms ?? -1;
    await page.mouse.move(at.x, at.y);
    await page.mouse.down();
    await deviceHas(dev, 'horn', true);
    assert.equal(await horn.getAttribute('aria-pressed'), 'true');
    await happen();
    await released(why, since);
    await page.mouse.up();
  }
  // A touch the browser takes away (pointercancel).
  let since = (await dev.state()).heard.at(-1).at_ms;
  const touch = await touchscreen(page);
  await touch.press(1, at);
  await deviceHas(dev, 'horn', true);
  await touch.cancel();
  await released('pointercancel', since);

  // The link is cut while the horn is held: the device lets go of it (its client is gone), and
  // the app, back on a new link, holds nothing and sends no press of its own.
  since = (await dev.state()).heard.at(-1).at_ms;
  await page.mouse.move(at.x, at.y);
  await page.mouse.down();
  await deviceHas(dev, 'horn', true);
  await dev.cut();
  await until('the device let go on disconnect', async () => {
    const s = await dev.state();
    return s.values.horn === false && s.set_by.horn.startsWith('disconnect');
  });
  await waitForState(page, 'connected');
  await until('the horn shown let go', async () => (await horn.getAttribute('aria-pressed')) === 'false');
  await page.mouse.up();
  await new Promise((r) => setTimeout(r, 300));
  const after = (await heard(dev, 'horn')).filter((h) => h.at_ms > since);
  assert.deepEqual(after.filter((h) => h.v === true).length, 1, `one press only: ${JSON.stringify(after)}`);
  assert.equal(await value(dev, 'horn'), false);
  assert.deepEqual(ctx.browser.errors, []);
});

test('a slider dragged at pointer rate sends at most rate_hz a second and ends at the final value', async () => {
  const dev = await device();
  const page = await open(dev);
  const slider = row(page, 'pan').getByRole('slider', { name: 'Camera pan' });
  const box = await slider.boundingBox();
  const y = box.y + box.height / 2;
  await page.mouse.move(box.x + box.width / 2, y);
  await page.mouse.down();
  // 150 moves 8 ms apart (a finger at 120 Hz), back and forth over the track, for ~1.2 s+.
  for (let i = 0; i < 150; i++) {
    const f = 0.5 + 0.45 * Math.sin(i / 12);
    await page.mouse.move(box.x + box.width * f, y);
    await new Promise((r) => setTimeout(r, 8));
  }
  await page.mouse.move(box.x + box.width * 0.8, y);
  await page.mouse.up();
  const final = Number(await slider.inputValue());
  await deviceHas(dev, 'pan', final);
  const frames = await heard(dev, 'pan');
  const span = frames.at(-1).at_ms - frames[0].at_ms;
  // rate_hz 10: at most 10 a second while dragging, plus the value let go (sent at once).
  assert.ok(frames.length >= 5, `it streamed while dragging: ${frames.length} frames`);
  assert.ok(frames.length <= (10 * span) / 1000 + 2, `${frames.length} frames in ${span} ms`);
  for (const f of frames) {
    const inSecond = frames.filter((g) => g.at_ms >= f.at_ms && g.at_ms < f.at_ms + 1000).length;
    assert.ok(inSecond <= 12, `${inSecond} frames in the second from ${f.at_ms} ms`);
  }
  assert.equal(frames.at(-1).v, final, 'the last frame is the value let go');
  const seqs = frames.map((f) => f.seq);
  assert.ok(seqs.every((s, i) => i === 0 || s > seqs[i - 1]), `seq increases: ${seqs}`);
  await until('the slider confirmed', async () => !(await row(page, 'pan').getAttribute('class')).includes('pending'));
  assert.equal(Number(await slider.inputValue()), final);
});

test('a controls frame replaces the set live; bad declarations are noted one by one', async () => {
  const dev = await device();
  const page = await open(dev);
  await row(page, 'horn').waitFor();
  assert.deepEqual(
    await page.$$eval('.card:has([data-ctl]) h2', (hs) => hs.map((h) => h.textContent)),
    ['Car', 'Camera', 'Controls'],
    'groups as cards, in declaration order',
  );
  await dev.declare([
    { id: 'pump', kind: 'toggle', label: 'Pump', group: 'Garden' },
    { id: 'x', kind: 'knob' },
    { id: 'level', kind: 'gauge', label: 'Tank level', min: 0, max: 10, unit: 'l' },
  ]);
  await row(page, 'pump').waitFor();
  assert.equal(await row(page, 'horn').count(), 0, 'the old set is gone');
  assert.deepEqual(await page.$$eval('[data-ctl]', (rs) => rs.map((r) => r.dataset.ctl)), ['pump', 'level']);
  await row(page, 'pump').getByRole('switch', { name: /Pump/ }).click();
  await deviceHas(dev, 'pump', true);
  await page.goto(page.url().replace(/#.*$/, '#/device'));
  await page.getByText('control 1 (`x`) skipped: unknown kind').waitFor();
  await page.getByText('control 11 (`knob`) skipped: unknown kind').waitFor();
  assert.deepEqual(ctx.browser.errors, []);
});

test('every kind works with the keyboard alone, with labels, names and 44 px targets', async () => {
  const dev = await device();
  const page = await open(dev);
  await page.addInitScript({ content: AXE });
  await page.reload();
  await waitForState(page, 'connected');
  await row(page, 'lights').waitFor();
  page.on('dialog', (d) => d.accept());

  await tabTo(page, '[data-ctl=lights] [role=switch]');
  await page.keyboard.press(' ');
  await deviceHas(dev, 'lights', true);

  await tabTo(page, '[data-ctl=horn] button');
  await page.keyboard.down(' ');
  await deviceHas(dev, 'horn', true);
  await page.keyboard.up(' ');
  await deviceHas(dev, 'horn', false);

  await tabTo(page, '[data-ctl=pan] input');
  for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowRight');
  await deviceHas(dev, 'pan', 3);

  await tabTo(page, '[data-ctl=profile] select');
  await page.keyboard.press('ArrowDown');
  await deviceHas(dev, 'profile', 'sport');

  await tabTo(page, '[data-ctl=display] input');
  await page.keyboard.type('HELLO');
  await page.keyboard.press('Enter');
  await deviceHas(dev, 'display', 'HELLO');

  await tabTo(page, '[data-ctl=speed] input');
  await page.keyboard.press('ArrowUp');
  await page.keyboard.press('ArrowUp');
  await deviceHas(dev, 'speed', 10);

  // A button with a question asks it first (accepted above), then presses.
  await tabTo(page, '[data-ctl=reset] button');
  await page.keyboard.press('Enter');
  await until('reset pressed and let go', async () => (await heard(dev, 'reset')).map((h) => h.v).join() === 'true,false');

  // Disabled: shown, not reachable by Tab, sends nothing.
  assert.equal(await row(page, 'winch').getByRole('button', { name: 'Winch' }).isDisabled(), true);
  // Read-only kinds: their values, labelled, with the unit.
  const battery = page.getByRole('meter', { name: 'Battery' });
  await until('the battery gauge follows its series', async () =>
    /^\d+(\.\d+)? %$/.test((await battery.getAttribute('aria-valuetext')) ?? ''),
  );
  assert.ok(await battery.isVisible());
  // The bar shows the reading: its fill is that share of the range, and the reading is drawn.
  const bar = await battery.evaluate(drawnGauge);
  assert.equal(parseFloat(bar.text), bar.now, JSON.stringify(bar));
  assert.ok(Math.abs(bar.fill - (bar.now - bar.min) / (bar.max - bar.min)) < 0.02, JSON.stringify(bar));
  assert.ok(bar.reading, JSON.stringify(bar));
  assert.match(await row(page, 'pan').locator('output').textContent(), /^3 deg$/);

  // Every control a finger uses is 44 px or more, and axe finds nothing serious.
  for (const el of await page.$$('[data-ctl] button, [data-ctl] input, [data-ctl] select')) {
    const b = await el.boundingBox();
    assert.ok(b.height >= 44, `${await el.evaluate((e) => e.outerHTML.slice(0, 80))}: ${b.height} px high`);
  }
  const violations = await page.evaluate(async () => (await window.axe.run(document)).violations);
  const serious = violations.filter((v) => v.impact === 'critical' || v.impact === 'serious');
  assert.deepEqual(serious.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`), []);
  assert.deepEqual((await heard(dev, 'winch')), []);
  assert.deepEqual(ctx.browser.errors, []);
});

test('a change the device does not confirm goes back to its value within 2 s and says so', async () => {
  const dev = await device();
  const page = await open(dev);
  const lights = row(page, 'lights');
  const sw = lights.getByRole('switch', { name: /Headlights/ });
  await sw.waitFor();
  await dev.mute(true);
  await sw.click();
  assert.equal(await sw.getAttribute('aria-checked'), 'true', 'shown at once');
  assert.ok((await lights.getAttribute('class')).includes('pending'), 'as pending');
  await until('the device heard it', async () => (await heard(dev, 'lights')).length === 1);
  await until('back to the device value', async () => (await sw.getAttribute('aria-checked')) === 'false', 4000);
  assert.equal(await lights.locator('.ctl-note').textContent(), REVERTED);
  assert.equal(await value(dev, 'lights'), false);
  // The device answers again: the next change is confirmed and the note goes.
  await dev.mute(false);
  await sw.click();
  await deviceHas(dev, 'lights', true);
  await until('confirmed', async () => !(await lights.getAttribute('class')).includes('pending'));
  assert.equal(await lights.locator('.ctl-note').count(), 1);
  assert.equal(await lights.locator('.ctl-note').textContent(), '');
});

test('a device that declares nothing gets the phone-side buttons set in Settings', async () => {
  const car = await device('microdot_car.py');
  const page = await open(car, ctx.browser.page, '#/settings');
  await page.waitForFunction((url) => document.querySelector('[data-testid=prefs-url]')?.textContent === url, car.wsUrl);
  await page.fill('#drive-extra', 'Go=forward, stop');
  await page.click('form:has(#drive-rate) button[type=submit]');
  await page.waitForFunction(() =>
    (document.querySelector('[data-testid=drive-settings-message]')?.textContent ?? '').startsWith('Saved'),
  );
  await page.goto(page.url().replace(/#.*$/, '#/controls'));
  const buttons = page.getByRole('group', { name: 'Phone buttons' });
  await buttons.getByRole('button', { name: 'Go' }).click();
  await until('`forward` at the car', () => car.heardWords().includes('forward'));
  await buttons.getByRole('button', { name: 'stop' }).click();
  await until('`stop` at the car', () => car.heardWords().includes('stop'));
  assert.deepEqual(car.heardWords(), ['forward', 'stop'], 'the texts as they are, nothing else');
});
