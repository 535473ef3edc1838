// Controls against the simulated car (`wsdeck-sim`, `--controls car` by default): it runs the
// device core the firmware runs (device/), so what the phone does with a control is checked where
// the device decides it, in GET /sim/state (`controls`, the car's headlights, horn, pan, eco).
// controls.test.mjs checks the same app against a device we did not write.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { drawnGauge, suite, until, waitForState } from '../lib/harness.mjs';

const ctx = suite({ before, after });

/** The app's Controls page on `tab`, connected to `sim`. */
async function open(sim, tab = ctx.browser.page) {
  await tab.goto(`${sim.url}#/controls`);
  await waitForState(tab, 'connected');
  await row(tab, 'lights').waitFor();
  return tab;
}

const row = (page, id) => page.locator(`[data-ctl="${id}"]`);
/** The device's control `id` as /sim/state shows it: `{ id, kind, value, by, at_ms }`. */
const control = async (sim, id) => (await sim.state()).controls.find((c) => c.id === id);
const carHas = (sim, key, v) =>
  until(`the car's ${key} to be ${JSON.stringify(v)}`, async () => (await sim.car())[key] === v);

test('a toggle on phone A shows on phone B, and the car turns its headlights on', async () => {
  const sim = await ctx.sim();
  const a = await open(sim);
  const b = await open(sim, await ctx.browser.context.newPage());
  const switchB = row(b, 'lights').getByRole('switch', { name: /Headlights/ });
  assert.equal(await switchB.getAttribute('aria-checked'), 'false');
  await row(a, 'lights').getByRole('switch', { name: /Headlights/ }).click();
  await carHas(sim, 'headlights', true);
  await until('phone B shows the lights on', async () => (await switchB.getAttribute('aria-checked')) === 'true');
  const lights = await control(sim, 'lights');
  assert.equal(lights.value, true);
  assert.notEqual(lights.by, null, 'a client changed it');
  await b.close();
  assert.deepEqual(ctx.browser.errors, []);
});

test('a horn held when the link is cut: the device lets go of it, and the app presses nothing again', async () => {
  const sim = await ctx.sim();
  const page = await open(sim);
  const horn = row(page, 'horn').getByRole('button', { name: 'Horn' });
  const box = await horn.boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  await carHas(sim, 'horn', true);
  // Every frame is lost both ways (the app's own release too) until the app gives the link up
  // as dead and closes it: only the device's release on disconnect can stop the horn.
  await sim.stall(4500);
  await until('the device let go on disconnect', async () => !(await sim.car()).horn, 8000);
  const released = await control(sim, 'horn');
  assert.deepEqual([released.value, released.by], [false, null], 'released by the device, not by a frame');
  await waitForState(page, 'connected');
  await until('the horn shown let go', async () => (await horn.getAttribute('aria-pressed')) === 'false');
  await page.mouse.up();
  await new Promise((r) => setTimeout(r, 300));
  assert.equal((await sim.car()).horn, false);
  assert.deepEqual(await control(sim, 'horn'), released, 'no frame about the horn since');
  assert.deepEqual(ctx.browser.errors, []);
});

test('the camera pan dragged at pointer rate: at most rate_hz frames a second, ending at the value let go', async () => {
  const sim = await ctx.sim();
  const page = await open(sim);
  const slider = row(page, 'pan').getByRole('slider', { name: 'Camera pan' });
  const box = await slider.boundingBox();
  const y = box.y + box.height / 2;
  // /sim/state keeps the last 32 frames from the app: read it often enough to see every one.
  const seen = new Map();
  let dragging = true;
  const watch = (async () => {
    while (dragging) {
      for (const f of (await sim.state()).recent_frames) seen.set(`${f.client} ${f.at_ms} ${f.frame}`, f);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  await page.mouse.move(box.x + box.width / 2, y);
  await page.mouse.down();
  // 150 moves 8 ms apart (a finger at 120 Hz), back and forth over the track, for 1.2 s or more.
  for (let i = 0; i < 150; i++) {
    await page.mouse.move(box.x + box.width * (0.5 + 0.45 * Math.sin(i / 12)), y);
    await new Promise((r) => setTimeout(r, 8));
  }
  await page.mouse.move(box.x + box.width * 0.8, y);
  await page.mouse.up();
  const final = Number(await slider.inputValue());
  await carHas(sim, 'pan_deg', final);
  dragging = false;
  await watch;
  for (const f of (await sim.state()).recent_frames) seen.set(`${f.client} ${f.at_ms} ${f.frame}`, f);

  const frames = [...seen.values()]
    .map((f) => ({ at_ms: f.at_ms, ...JSON.parse(f.frame) }))
    .filter((f) => f.t === 'ctl' && f.id === 'pan')
    .sort((p, q) => p.at_ms - q.at_ms || p.seq - q.seq);
  // The car declares no rate_hz: the default, 20 a second. Allowed above it in any second: the
  // value let go (sent at once) and one frame of arrival jitter.
  const RATE_HZ = 20;
  assert.ok(frames.length >= 5, `it streamed while dragging: ${frames.length} frames`);
  for (const f of frames) {
    const inSecond = frames.filter((g) => g.at_ms >= f.at_ms && g.at_ms < f.at_ms + 1000).length;
    assert.ok(inSecond <= RATE_HZ + 2, `${inSecond} frames in the second from ${f.at_ms} ms`);
  }
  assert.equal(frames.at(-1).v, final, 'the last frame is the value let go');
  assert.equal((await control(sim, 'pan')).value, final);
  assert.equal((await sim.state()).rate_limited_frames, 0, 'nothing came near the device cap');
  await until('the slider confirmed', async () => !(await row(page, 'pan').getAttribute('class')).includes('pending'));
  assert.deepEqual(ctx.browser.errors, []);
});

test('the drive profile set to eco makes the car an eco one', async () => {
  const sim = await ctx.sim();
  const page = await open(sim);
  assert.equal((await sim.car()).eco, false);
  await row(page, 'profile').locator('select').selectOption('eco');
  await carHas(sim, 'eco', true);
  assert.equal((await control(sim, 'profile')).value, 'eco');
  await until('confirmed', async () => !(await row(page, 'profile').getAttribute('class')).includes('pending'));
  assert.equal((await sim.state()).refused_ctl, 0);
  assert.deepEqual(ctx.browser.errors, []);
});

test('100 controls, 30 gauges at 50 Hz: a gauge off screen keeps its accessible value and draws its bar and reading when scrolled in', async () => {
  const sim = await ctx.sim({ args: ['--controls', 'many', '--rate', '20'] });
  const page = ctx.browser.page;
  await page.goto(`${sim.url}#/controls`);
  await waitForState(page, 'connected');
  const last = row(page, 'g29');
  await last.waitFor();
  const meter = last.getByRole('meter');
  // 30 gauges do not fit on a phone's screen: the last is below the fold.
  const box = await last.boundingBox();
  assert.ok(box.y > page.viewportSize().height, `g29 at y=${box.y}`);
  const first = await meter.evaluate(drawnGauge);
  await until('the off-screen gauge value to change', async () => (await meter.evaluate(drawnGauge)).now !== first.now);
  // One read, one task: the value and what is drawn come from the same update. The sim's values
  // sweep 0..100; a bar is read where both its ends are clear of the edges.
  const drawn = async () => {
    const g = await meter.evaluate(drawnGauge);
    return g.now > 10 && g.now < 90 && Math.abs(g.fill - g.now / 100) < 0.02 && g.reading && g.text === `${g.now} %`;
  };
  const off = await meter.evaluate(drawnGauge);
  assert.equal(off.text, `${off.now} %`, 'off screen, its accessible value has the unit');
  await last.scrollIntoViewIfNeeded();
  await until('the scrolled-in gauge draws its value', drawn);
  // A new width (the phone turned) redraws the bars to fit.
  await page.setViewportSize({ width: 700, height: 844 });
  await until('the gauge drawn at its new width', async () => {
    const w = await meter.evaluate((c) => [c.width, Math.round(c.clientWidth * devicePixelRatio)]);
    return w[0] === w[1] && (await drawn());
  });
  // Forced colours turned on while the page is open: the gauge is drawn again, its bar in the
  // system's text colour (and back in the theme's when they are turned off). `inInk`: whether the
  // bar is filled in the text colour (undefined while the value is too low to tell).
  const inInk = async () => {
    const [g, ink] = await Promise.all([meter.evaluate(drawnGauge), meter.evaluate((c) => getComputedStyle(c).color)]);
    return g.now > 10 ? g.colour === ink : undefined;
  };
  await until("the bar filled in the theme's colour", async () => (await inInk()) === false);
  await page.emulateMedia({ forcedColors: 'active' });
  await until('the gauge drawn in forced colours', async () => (await inInk()) === true);
  await page.emulateMedia({ forcedColors: 'none' });
  await until("the gauge drawn in the theme's colours again", async () => (await inInk()) === false);
  await page.setViewportSize({ width: 390, height: 844 });
  assert.deepEqual(ctx.browser.errors, []);
});
