// The Drive page at phone sizes, held upright and sideways, in real Chromium against the
// simulated car: every layout fits the screen without scrolling, no pad lies on another or on
// STOP, STOP takes the tap at its centre, and a thumb on the pads still drives. Sideways the
// status bar and tabs give way to a strip (whose menu brings the tabs back), and full screen
// goes on and off without breaking anything, and off when the page is left.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { after, before, test } from 'node:test';
import { armed, centre, launch, suite, touchscreen, until } from '../lib/harness.mjs';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

const ctx = suite({ before, after }, ['--rate', '20']);

const LANDSCAPE = [[844, 390], [740, 360], [915, 412], [667, 375]];
const PORTRAIT = [[390, 844], [360, 740]];
const LAYOUTS = ['stick', 'tank', 'split', 'dpad4', 'dpad8'];
const DUAL = new Set(['tank', 'split']);

/** Boxes of what a thumb needs, and whether the page or the document scrolls. */
async function measure(page) {
  return page.evaluate(() => {
    const box = (e) => {
      const r = e.getBoundingClientRect();
      return { left: r.left, top: r.top, right: r.right, bottom: r.bottom, width: r.width, height: r.height };
    };
    const shown = (e) => e && getComputedStyle(e).display !== 'none' && e.getBoundingClientRect().width > 0;
    const q = (s) => document.querySelector(s);
    const stop = q('[data-testid=stop]');
    const s = box(stop);
    const hit = document.elementFromPoint((s.left + s.right) / 2, (s.top + s.bottom) / 2);
    const main = q('main.page');
    return {
      pads: [...document.querySelectorAll('.pad')].map(box),
      stop: s,
      stopHit: !!hit && (hit === stop || stop.contains(hit)),
      bar: [...document.querySelectorAll('.drive-bar button, .drive-bar select, .drive-bar input')]
        .filter(shown)
        .map(box),
      controls: shown(q('.drive-controls')) ? box(q('.drive-controls')) : null,
      strip: shown(q('[data-testid=drive-strip]')),
      statusBar: shown(q('[data-testid=status]')),
      tabs: shown(q('nav.tabs')),
      scroll: {
        doc: [document.documentElement.scrollHeight, innerHeight],
        docWidth: [document.documentElement.scrollWidth, innerWidth],
        page: [main.scrollHeight, main.clientHeight],
      },
      viewport: { width: innerWidth, height: innerHeight },
    };
  });
}

const overlaps = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
const inside = (r, v) => r.left >= 0 && r.top >= 0 && r.right <= v.width + 0.5 && r.bottom <= v.height + 0.5;

function assertFits(m, where) {
  const v = m.viewport;
  assert.ok(m.scroll.doc[0] <= m.scroll.doc[1], `${where}: the document scrolls (${m.scroll.doc})`);
  assert.ok(m.scroll.docWidth[0] <= m.scroll.docWidth[1], `${where}: the document scrolls sideways (${m.scroll.docWidth})`);
  assert.ok(m.scroll.page[0] <= m.scroll.page[1], `${where}: the page scrolls (${m.scroll.page})`);
  m.pads.forEach((p, i) => {
    assert.ok(inside(p, v), `${where}: pad ${i} reaches past the screen: ${JSON.stringify(p)}`);
    assert.ok(!overlaps(p, m.stop), `${where}: STOP lies on pad ${i}`);
    m.pads.slice(i + 1).forEach((q, j) => assert.ok(!overlaps(p, q), `${where}: pads ${i} and ${i + j + 1} overlap`));
  });
  assert.ok(inside(m.stop, v), `${where}: STOP reaches past the screen: ${JSON.stringify(m.stop)}`);
  assert.ok(m.stopHit, `${where}: a tap at STOP's centre lands on something else`);
  m.bar.forEach((b) => assert.ok(inside(b, v), `${where}: a bar control reaches past the screen: ${JSON.stringify(b)}`));
}

/** Every pad pushed forward by a finger of its own until the car moves; then all lift and it stops. */
async function driveByTouch(page, device, where) {
  const touch = await touchscreen(page);
  const pads = await page.$$eval('.pad', (ps) => ps.map((p) => p.dataset.control));
  let id = 1;
  for (const control of pads) {
    const pad = await centre(page, `.pad[data-control=${control}]`);
    await touch.press(id, pad);
    await touch.move(id, { x: pad.x, y: pad.y - pad.r * 0.7 });
    id += 1;
  }
  await until(`${where}: the car to drive forward`, async () => {
    const c = await device.car();
    return c.l > 0.3 && c.r > 0.3;
  });
  for (let f = id - 1; f >= 1; f -= 1) await touch.lift(f);
  await until(`${where}: the stop`, async () => !(await device.car()).moving);
}

for (const [width, height] of [...LANDSCAPE, ...PORTRAIT]) {
  const sideways = width > height;
  test(`${width}x${height} ${sideways ? 'landscape' : 'portrait'}: every layout fits, STOP is free and a thumb drives`, async () => {
    const device = await ctx.sim();
    const { page, errors } = ctx.browser;
    await page.setViewportSize({ width, height });
    for (const mode of LAYOUTS) {
      const where = `${width}x${height} ${mode}`;
      await page.goto('about:blank');
      await armed(page, device, { mode });
      assert.equal(await page.locator('.pad').count(), DUAL.has(mode) ? 2 : 1, `${where}: pads`);
      const m = await measure(page);
      assertFits(m, where);
      if (sideways) {
        assert.ok(m.strip && !m.statusBar && !m.tabs, `${where}: the strip stands in for the status bar and the tabs`);
        // The thumb buttons' place (src/controls/ hides it while the device declares none).
        assert.equal(await page.locator('.drive .drive-controls').count(), 1, `${where}: a place for thumb buttons`);
        if (m.controls) {
          assert.ok(inside(m.controls, m.viewport) && !overlaps(m.controls, m.stop) && m.pads.every((p) => !overlaps(p, m.controls)),
            `${where}: the thumb buttons' place is on the screen, clear of STOP and the pads`);
        }
        // At the thumbs: the (first) pad at the left edge, a second one at the right edge.
        assert.ok(m.pads[0].left < width * 0.1, `${where}: the left pad is at the left thumb`);
        if (m.pads[1]) assert.ok(m.pads[1].right > width * 0.9, `${where}: the right pad is at the right thumb`);
        assert.ok(m.pads.every((p) => p.width >= 200), `${where}: pads of a thumb's size (${m.pads.map((p) => p.width)})`);
      } else {
        assert.ok(!m.strip && m.statusBar && m.tabs, `${where}: upright, the status bar and tabs as before`);
      }
      await driveByTouch(page, device, where);
    }
    // The other thumb reaches STOP while one drives.
    const touch = await touchscreen(page);
    const pad = await centre(page, '.pad');
    await touch.press(1, pad);
    await touch.move(1, { x: pad.x, y: pad.y - pad.r * 0.7 });
    await until('driving', async () => (await device.car()).moving);
    await touch.press(2, await centre(page, '[data-testid=stop]'));
    await page.waitForSelector('[data-testid=drive][data-arming=disarmed]');
    await until('STOP to stop the car', async () => !(await device.car()).moving);
    await touch.lift(2);
    await touch.lift(1);
    assert.deepEqual(errors, []);
  });
}

// What src/controls/ puts in the slot: a device's `drive` controls, as docs/PROTOCOL.md declares them.
const DRIVE_CONTROLS = JSON.stringify({ t: 'controls', controls: [
  { id: 'lights', kind: 'toggle', label: 'Headlights', drive: true },
  { id: 'horn', kind: 'button', label: 'Horn', drive: true },
  { id: 'pan', kind: 'slider', label: 'Camera pan', min: -90, max: 90, step: 5, unit: '°', drive: true },
] });

test('sideways, the device\'s thumb buttons sit between the pads, clear of them and of STOP, each one reachable', async () => {
  const device = await ctx.sim();
  const { page, errors } = ctx.browser;
  for (const [width, height] of [[844, 390], [667, 375]]) {
    await page.setViewportSize({ width, height });
    for (const mode of ['tank', 'stick']) {
      const where = `${width}x${height} ${mode} with controls`;
      await page.goto('about:blank');
      await armed(page, device, { mode });
      await device.send(DRIVE_CONTROLS);
      // The simulator's own declaration (lights, horn) is replaced by this one, with its slider.
      await page.waitForSelector('.drive-controls input');
      const m = await measure(page);
      assertFits(m, where);
      assert.ok(m.controls && !overlaps(m.controls, m.stop) && m.pads.every((p) => !overlaps(p, m.controls)), `${where}: clear`);
      // Each control can be brought into the slot (it scrolls when they do not all fit) and takes a tap there.
      const reachable = await page.$$eval('.drive-controls button, .drive-controls input', (els) => els.map((e) => {
        e.scrollIntoView({ block: 'nearest' });
        const r = e.getBoundingClientRect();
        const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
        return !!hit && (hit === e || e.contains(hit) || hit.contains(e));
      }));
      assert.ok(reachable.length >= 3 && reachable.every(Boolean), `${where}: every control takes a tap (${reachable})`);
      assertFits(await measure(page), `${where}, scrolled`);
      await driveByTouch(page, device, where);
    }
  }
  assert.deepEqual(errors, []);
});

test('sideways, the strip shows the link, the round trip and the battery; its menu brings the tabs back', async () => {
  const device = await ctx.sim();
  const { page, errors } = ctx.browser;
  await page.setViewportSize({ width: 844, height: 390 });
  await page.goto(`${device.url}#/drive`);
  const strip = page.locator('[data-testid=drive-strip]');
  await until('the strip to say connected', async () => (await strip.getAttribute('data-state')) === 'connected');
  await until('a round trip and the battery', async () => /Connected.*\d+ ms.*Battery \d+\.\d+ V/s.test(await strip.innerText()));
  assert.equal(await page.isVisible('nav.tabs'), false);
  // The note on who drives is read whole, on the narrowest phone too.
  for (const width of [844, 667]) {
    await page.setViewportSize({ width, height: width === 844 ? 390 : 375 });
    await page.waitForFunction(() => /Arm to drive/.test((document.querySelector('[data-testid=lease]')?.textContent ?? '')));
    const cut = await page.$eval('[data-testid=lease]', (e) => e.scrollWidth > e.clientWidth);
    assert.equal(cut, false, `${width} wide: the note on who drives is cut short`);
  }
  await page.setViewportSize({ width: 844, height: 390 });
  await page.tap('[data-testid=menu]');
  assert.equal(await page.getAttribute('[data-testid=menu]', 'aria-expanded'), 'true');
  const tabs = await page.locator('nav.tabs').boundingBox();
  assert.ok(tabs && tabs.y + tabs.height <= 390 && tabs.height > 200, `the tabs are on the screen: ${JSON.stringify(tabs)}`);
  assert.ok(await page.isVisible('[data-testid=menu]'), 'the menu button stays to close them');
  await page.tap('[data-testid=menu]');
  assert.equal(await page.isVisible('nav.tabs'), false);
  await page.tap('[data-testid=menu]');
  await page.tap('nav.tabs a[href="#/charts"]');
  await page.waitForSelector('main.page[data-page=charts]');
  assert.ok(await page.isVisible('[data-testid=status]'), 'other pages keep the status bar sideways');
  assert.deepEqual(errors, []);
});

test('full screen goes on and off from the strip, and off when the page is left, its listener with it', async () => {
  const device = await ctx.sim();
  const { page, errors } = ctx.browser;
  await page.setViewportSize({ width: 844, height: 390 });
  // Count the app's fullscreenchange listeners on the document (the Drive page must release its own).
  await page.addInitScript(() => {
    const live = new Set();
    const add = EventTarget.prototype.addEventListener;
    const remove = EventTarget.prototype.removeEventListener;
    EventTarget.prototype.addEventListener = function (kind, f, o) {
      if (this === document && kind === 'fullscreenchange') live.add(f);
      return add.call(this, kind, f, o);
    };
    EventTarget.prototype.removeEventListener = function (kind, f, o) {
      if (this === document && kind === 'fullscreenchange') live.delete(f);
      return remove.call(this, kind, f, o);
    };
    window.fullscreenListeners = () => live.size;
  });
  await armed(page, device, { mode: 'tank' });
  assert.equal(await page.evaluate(() => window.fullscreenListeners()), 1);
  const full = '[data-testid=fullscreen]';
  await page.click(full);
  await page.waitForFunction(() => document.fullscreenElement === document.documentElement);
  await page.waitForSelector(`${full}[aria-pressed=true]`);
  assertFits(await measure(page), 'full screen');
  // Driving goes on in full screen (the orientation lock may be refused here: quietly).
  await driveByTouch(page, device, 'full screen');
  await page.click(full);
  await page.waitForFunction(() => document.fullscreenElement === null);
  await page.waitForSelector(`${full}[aria-pressed=false]`);
  // On again, then away from Drive: full screen ends with the page.
  await page.click(full);
  await page.waitForFunction(() => document.fullscreenElement !== null);
  await page.tap('[data-testid=menu]');
  await page.tap('nav.tabs a[href="#/device"]');
  await page.waitForSelector('main.page[data-page=device]');
  await page.waitForFunction(() => document.fullscreenElement === null);
  assert.equal(await page.evaluate(() => window.fullscreenListeners()), 0, 'the listener left with the page');
  assert.deepEqual(errors, []);
});

// a11y.test.mjs audits every page upright; sideways the Drive page is another layout (the strip,
// smaller type): the same bar, in both themes.
for (const theme of ['light', 'dark']) {
  test(`sideways, the Drive page has no critical or serious accessibility violation, ${theme} theme`, async () => {
    const device = await ctx.sim();
    const browser = await launch({ viewport: { width: 667, height: 375 }, colorScheme: theme });
    try {
      const { page, errors } = browser;
      await page.addInitScript({ content: AXE });
      const audit = async (where) => {
        const found = await page.evaluate(async () => {
          const r = await window.axe.run(document, { resultTypes: ['violations'] });
          return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')) }));
        });
        const failing = found.filter((v) => ['critical', 'serious'].includes(v.impact));
        assert.deepEqual(failing, [], `${theme}, ${where}`);
      };
      await armed(page, device, { mode: 'tank' });
      await until('the battery in the strip', async () => /\d V/.test(await page.textContent('[data-testid=drive-strip]')));
      await audit('armed');
      await page.tap('[data-testid=menu]');
      await audit('tabs open');
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  });
}
