// axe-core on every page of the release build, in the light and the dark theme, under the same
// Content-Security-Policy a device sends, in each state a person sees (armed, waiting for neutral,
// pairing, an error, the link lost). A critical or serious violation fails the test (a field with
// no label, too little contrast), and so do zoom disabled and no top-level heading, which axe
// rates moderate.
//
// axe is not loaded with a <script> tag (the CSP would refuse it, rightly): Playwright's
// addInitScript hands its source to the DevTools protocol (Page.addScriptToEvaluateOnNewDocument),
// which runs outside the page's policy, so the policy stays as strict as in production and the
// test also checks that not one violation of it is reported.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { after, test } from 'node:test';
import { centre, launch, pinchOut, startSim, touchscreen, waitForState } from '../lib/harness.mjs';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
/** Fail at any impact: fixed once, they must not come back. */
const ALWAYS = new Set(['meta-viewport', 'page-has-heading-one']);
const FAILING = new Set(['critical', 'serious']);

const sims = [];
after(async () => {
  for (const sim of sims) await sim.kill();
});
async function sim(args) {
  const device = await startSim({ args });
  sims.push(device);
  return device;
}

/**
 * Runs axe on the page as it is now. Returns its violations and what it could not decide (a
 * colour over a gradient, say), each with where it was seen.
 */
async function audit(page, where) {
  const { violations, undecided } = await page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations', 'incomplete'] });
    const brief = (v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => ({
        target: n.target.join(' '),
        summary: n.failureSummary ?? [...n.any, ...n.all, ...n.none].map((c) => c.message).join('\n'),
      })),
    });
    return { violations: result.violations.map(brief), undecided: result.incomplete.map(brief) };
  });
  const at = (v) => ({ ...v, where });
  return { violations: violations.map(at), undecided: undecided.map(at) };
}

function describe(v) {
  const nodes = v.nodes.map((n) => `    ${n.target}\n      ${n.summary.replace(/\n\s*/g, '\n      ')}`);
  return `${v.where}: ${v.id} (${v.impact}) ${v.help}\n${nodes.join('\n')}`;
}

for (const theme of ['light', 'dark']) {
  test(`no critical or serious accessibility violation on any page, ${theme} theme`, async (t) => {
    const device = await sim(['--rate', '20', '--name', 'Test car']);
    const locked = await sim(['--rate', '20', '--token', 'blue-tiger-42', '--name', 'Locked car']);
    const browser = await launch({ colorScheme: theme });
    const { page, errors } = browser;
    const found = [];
    const undecided = [];
    const check = async (where) => {
      const result = await audit(page, `[${theme}] ${where}`);
      found.push(...result.violations);
      undecided.push(...result.undecided);
    };
    try {
      await page.addInitScript({ content: AXE });
      await page.addInitScript(() => {
        window.__csp = [];
        document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
      });

      const response = await page.goto(`${device.url}#/charts`);
      assert.match(response.headers()['content-security-policy'] ?? '', /script-src 'self'/, 'audited under the CSP');
      assert.equal(await page.evaluate(() => matchMedia('(prefers-color-scheme: dark)').matches), theme === 'dark');
      await waitForState(page, 'connected');
      await page.waitForSelector('.tile[data-series=temp_c]');
      await page.waitForSelector('[data-testid=charts] canvas');
      await check('charts');
      await page.click('[data-testid=pause]');
      await page.click('[data-testid=arrange]');
      await page.waitForSelector('[data-testid=arrange-panel]');
      await check('charts, paused and arranging');

      await page.goto(`${device.url}#/drive`);
      await page.waitForSelector('[data-testid=drive][data-arming=disarmed]');
      await check('drive, disarmed');
      await page.click('[data-testid=arm]');
      await page.waitForSelector('[data-testid=drive][data-arming=armed]');
      await page.click('.drive-bar .lock');
      await check('drive, armed');
      // A touch the browser takes away: armed again only once the stick is back at neutral.
      const touch = await touchscreen(page);
      const pad = await centre(page, '.pad');
      await touch.press(1, pad);
      await touch.move(1, { x: pad.x, y: pad.y - pad.r * 0.7 });
      await touch.cancel();
      await page.waitForSelector('[data-testid=drive][data-arming=await-neutral]');
      await check('drive, waiting for neutral');

      await page.goto(`${device.url}#/device`);
      await page.waitForSelector('[data-testid=hello-name]');
      await page.waitForFunction(() => (document.querySelector('[data-testid=hello-name]')?.textContent ?? '') === 'Test car');
      await check('device');

      await page.goto(`${device.url}#/settings`);
      await page.waitForSelector('#ws-url');
      await check('settings');
      await page.check('#words-on');
      await page.fill('#ws-url', 'http://');
      await page.click('.url-form button[type=submit]');
      await page.waitForFunction(() => (document.querySelector('[data-testid=url-error]')?.textContent ?? '') !== '');
      await check('settings, with an error');

      await page.goto(`${locked.url}#/drive`);
      await waitForState(page, 'connected');
      await page.waitForSelector('[data-testid=pairing]:not([hidden])');
      await check('drive, pairing card');

      // The link lost: the status bar offers another address, the tiles show their last values.
      await page.goto(`${device.url}#/charts`);
      await waitForState(page, 'connected');
      await page.waitForSelector('.tile[data-series=temp_c]');
      await device.kill();
      await page.waitForSelector('[data-testid=change-device]');
      await page.waitForSelector('.tile.stale');
      await check('charts, link lost');

      assert.deepEqual(await page.evaluate(() => window.__csp), [], 'no CSP violation');
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }

    const failing = found.filter((v) => FAILING.has(v.impact) || ALWAYS.has(v.id));
    const note = (what, v) => `${what}: ${describe(v)}`.split('\n').forEach((line) => t.diagnostic(line));
    for (const v of found.filter((v) => !failing.includes(v))) note('not failing', v);
    for (const v of undecided) note('axe could not decide', v);
    assert.equal(failing.length, 0, `accessibility violations:\n\n${failing.map(describe).join('\n\n')}\n`);
  });
}

// Zoom (WCAG 1.4.4): index.html's viewport lets a person pinch-zoom every page; the Drive page
// alone turns it off in CSS, where two thumbs on the pads must not zoom the page under them.
test('a pinch zooms every page but Drive', async () => {
  const device = await sim(['--rate', '20']);
  const browser = await launch();
  const scaleAfterPinch = async (hash, selector) => {
    const page = await browser.context.newPage();
    try {
      await page.goto(`${device.url}${hash}`);
      await waitForState(page, 'connected');
      const at = await centre(page, selector);
      // Two fingers 40 px apart move out to 200 px, as on a touch screen.
      await pinchOut(await touchscreen(page), at, { step: 8 });
      // Two frames: the compositor has applied whatever zoom the gesture made.
      return await page.evaluate(
        () => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(() => done(visualViewport.scale)))),
      );
    } finally {
      await page.close();
    }
  };
  try {
    for (const [hash, selector] of [['#/settings', '#ws-url'], ['#/device', '.facts'], ['#/charts', '.tiles']]) {
      assert.ok((await scaleAfterPinch(hash, selector)) > 1.5, `${hash} zooms`);
    }
    for (const selector of ['.pad', '.drive-bar', '.lease']) {
      assert.equal(await scaleAfterPinch('#/drive', selector), 1, `a pinch on Drive's ${selector} does not zoom`);
    }
  } finally {
    await browser.close();
  }
});
