// 1 kHz telemetry for 60 s on the Charts page: the page keeps up with the data, keeps drawing,
// and handles input in the frame it arrives in. Nothing here compares wall-clock times against a
// number: input is judged in animation frames and keeping up in frames of telemetry. The share
// of time the page's main thread was busy is printed, not asserted (it depends on the machine).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { chart, suite, waitForState } from '../lib/harness.mjs';

const ctx = suite({ before, after });
const SECONDS = Number(process.env.WSDECK_LOAD_S ?? 60);

// Counts animation frames (with their times) and telemetry frames as the page handles them, and
// for each pointerdown the frames that began between the input's creation and its handler.
const PROBE = () => {
  window.__frames = [];
  const tick = (t) => {
    window.__frames.push(t);
    if (window.__frames.length > 600) window.__frames.splice(0, 300);
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  window.__tel = 0;
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', () => window.__tel++);
    }
  };
  window.__inputs = [];
  addEventListener('pointerdown', (e) => {
    const now = performance.now();
    const missed = window.__frames.filter((t) => t > e.timeStamp && t < now).length;
    window.__inputs.push(missed);
  }, true);
};

test('1 kHz telemetry for 60 s: the page keeps up, keeps drawing and handles input within a frame', async () => {
  const device = await ctx.sim({ args: ['--rate', '1000'] });
  const page = await ctx.browser.context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  try {
    await page.addInitScript(PROBE);
    await page.goto(`${device.url}#/charts`);
    await waitForState(page, 'connected');
    const sel = chart('distance_cm');
    await page.waitForSelector(sel);
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Performance.enable');
    const task = async () => (await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === 'TaskDuration').value;
    const [task0, wall0] = [await task(), Date.now()];
    const button = await page.$('[data-testid=arrange]');
    let lagWorst = 0;
    for (let s = 0; s < SECONDS; s += 5) {
      const picture = await page.$eval(sel, (c) => c.toDataURL());
      // A real click through the browser's input pipeline; the panel opens or closes at once.
      const open = await button.getAttribute('aria-expanded');
      await button.click();
      assert.notEqual(await button.getAttribute('aria-expanded'), open, 'the click was handled');
      await page.waitForTimeout(5000);
      assert.notEqual(await page.$eval(sel, (c) => c.toDataURL()), picture, `still drawing after ${s + 5} s`);
      // Keeping up: what the page has handled against what the device has sent, read back to back.
      const handled = await page.evaluate(() => window.__tel);
      const sent = (await device.state()).telemetry_frames;
      lagWorst = Math.max(lagWorst, sent - handled);
    }
    const busy = (await task() - task0) / ((Date.now() - wall0) / 1000);
    const inputs = await page.evaluate(() => window.__inputs);
    console.log(`# 1 kHz for ${SECONDS} s: busy ${(busy * 100).toFixed(0)} %, worst lag ${lagWorst} frames, ` +
      `frames begun before input was handled: ${inputs.join(' ')}`);
    assert.ok(inputs.length >= SECONDS / 5, 'every click reached the page');
    assert.ok(Math.max(...inputs) <= 1, `input handled in the frame it arrived in (frames missed: ${inputs})`);
    assert.ok(lagWorst < 1000, `the page keeps up with the device (worst lag ${lagWorst} frames = ${lagWorst} ms of data)`);
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
  }
});
