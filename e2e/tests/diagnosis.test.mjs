// When the WebSocket does not open, the app asks the same address over plain HTTP and says why
// (src/connection/probe.rs): nothing answers; a web server without that WebSocket (against the
// simulator, and against Python's own http.server, which is not ours); a device on another origin
// that refuses the page. Shown in the status bar and on the Device page.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { freePort, suite, waitForState } from '../lib/harness.mjs';

const ctx = suite({ before, after });
const DIST = process.env.WSDECK_DIST;

/** The status bar's explanation, once it has one. */
async function why(page, timeout = 10_000) {
  const el = await page.waitForSelector('[data-testid=link-why]', { timeout });
  return el.textContent();
}

test('nothing listening: "Nothing answers at" that address', async () => {
  const sim = await ctx.sim();
  const port = await freePort();
  const { page } = ctx.browser;
  await page.goto(`${sim.url}?ws=ws://127.0.0.1:${port}/ws`);
  const text = await why(page);
  assert.match(text, new RegExp(`^Nothing answers at 127\\.0\\.0\\.1:${port}`));
  // The long line is cut on a phone's width, never widening the page; "Address" stays tappable.
  const widths = await page.evaluate(() => [document.querySelector('.status').getBoundingClientRect().width, innerWidth]);
  assert.ok(widths[0] <= widths[1], `status bar ${widths[0]} px on a ${widths[1]} px screen`);
  await page.click('[data-testid=change-device]', { timeout: 5000 });
  await page.waitForSelector('#ws-url');
  // The Device page says the same, in full.
  await page.goto(`${sim.url}?ws=ws://127.0.0.1:${port}/ws#/device`);
  const full = await (await page.waitForSelector('[data-testid=diagnosis]')).textContent();
  assert.match(full, /Nothing answers/);
});

test('the simulator has no WebSocket at that path: 404, check the path', async () => {
  const sim = await ctx.sim();
  const { page } = ctx.browser;
  await page.goto(`${sim.url}?ws=ws://127.0.0.1:${sim.port}/socket`);
  assert.match(await why(page), /has no WebSocket at \/socket \(404\)/);
});

test('a device on another origin that refuses the page: something answers, and what to allow', async () => {
  const app = await ctx.sim();
  const device = await ctx.sim();
  const { page } = ctx.browser;
  await page.goto(`${app.url}?ws=${device.wsUrl}`);
  const text = await why(page);
  assert.match(text, new RegExp(`^Something answers at 127\\.0\\.0\\.1:${device.port}`));
  assert.ok(text.includes(`http://127.0.0.1:${app.port}`), text);
  // Allowed, the same device connects and the explanation goes.
  const allowing = await ctx.sim({ args: ['--allow-origin', `http://127.0.0.1:${app.port}`] });
  await page.goto(`${app.url}?ws=${allowing.wsUrl}`);
  await waitForState(page, 'connected');
  assert.equal(await page.$('[data-testid=link-why]'), null);
});

test("a web server that is not ours (Python's http.server serving the app) and has no WebSocket", async () => {
  const port = await freePort();
  const server = spawn('python3', ['-m', 'http.server', String(port), '--bind', '127.0.0.1', '--directory', DIST], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('http.server did not start')), 10_000);
      const poll = async () => {
        try {
          await fetch(`http://127.0.0.1:${port}/`);
          clearTimeout(timer);
          resolve();
        } catch {
          setTimeout(poll, 50);
        }
      };
      poll();
    });
    const { page } = ctx.browser;
    // The app's own origin: the answer's status is readable.
    await page.goto(`http://127.0.0.1:${port}/`);
    const text = await why(page, 15_000);
    assert.match(text, new RegExp(`A web server answers at 127\\.0\\.0\\.1:${port} but has no WebSocket at /ws \\(404\\)`));
  } finally {
    server.kill('SIGKILL');
  }
});
