// The Drive page with real touch in Chromium against the simulated car: it drives, and every
// way a finger, the page or the link can go away stops the car.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { arm, armed, centre, holdForward, pushForward, suite, touchscreen, until, waitForState } from '../lib/harness.mjs';

const ctx = suite({ before, after }, ['--rate', '20']);
const sim = (args = []) => ctx.sim({ args });

const arming = (page) => page.getAttribute('[data-testid=drive]', 'data-arming');
const lastStop = (car) => car.stops[car.stops.length - 1];

test('one finger on the stick drives forward; lifting it stops the car', async () => {
  const device = await sim();
  const { page, errors } = ctx.browser;
  await armed(page, device);
  const touch = await touchscreen(page);
  const pad = await centre(page, '.pad');
  await touch.press(1, pad);
  await touch.move(1, { x: pad.x, y: pad.y - pad.r * 0.7 });
  const car = await until('the car to drive forward', async () => {
    const c = await device.car();
    return c.l > 0.5 && c.r > 0.5 && c.y_m >= 0 ? c : null;
  });
  assert.match(car.last_command, /"t":"drive".*"y":[1-9]/);
  assert.match(await page.textContent('[data-testid=drive-out]'), /y [1-9]\d*/);
  await touch.lift(1);
  const stopped = await until('the stop', async () => {
    const c = await device.car();
    return !c.moving ? c : null;
  });
  assert.match(lastStop(stopped).reason, /^stop from client/);
  assert.equal(await arming(page), 'armed', 'lifting a finger keeps the app armed');
  assert.deepEqual(errors, []);
});

test('two fingers drive two sticks at once', async () => {
  const device = await sim();
  const { page, errors } = ctx.browser;
  await armed(page, device, { mode: 'tank' });
  const touch = await touchscreen(page);
  const left = await centre(page, '.pad[data-control=left]');
  const right = await centre(page, '.pad[data-control=right]');
  await touch.press(1, left);
  await touch.press(2, right);
  await touch.move(1, { x: left.x, y: left.y - left.r * 0.75 });
  await touch.move(2, { x: right.x, y: right.y + right.r * 0.75 });
  await until('left forward, right back', async () => {
    const c = await device.car();
    return c.l > 0.5 && c.r < -0.5;
  });
  await touch.lift(2);
  await until('only the left wheel', async () => {
    const c = await device.car();
    return c.l > 0.5 && c.r === 0;
  });
  await touch.lift(1);
  await until('the stop', async () => !(await device.car()).moving);
  assert.deepEqual(errors, []);
});

test('a cancelled touch stops the car and waits for neutral', async () => {
  const device = await sim();
  const { page } = ctx.browser;
  await armed(page, device);
  const touch = await touchscreen(page);
  const pad = await centre(page, '.pad');
  await touch.press(1, pad);
  await touch.move(1, { x: pad.x + pad.r * 0.7, y: pad.y });
  await until('a spin', async () => (await device.car()).l > 0.5);
  await touch.cancel();
  await until('the stop', async () => !(await device.car()).moving);
  assert.equal(await arming(page), 'await-neutral');
  assert.deepEqual(await centre(page, '.pad'), pad, 'the pad does not move when the arming state changes');
  // A new touch starts at the centre: neutral, so driving resumes.
  await touch.press(2, pad);
  await page.waitForSelector('[data-testid=drive][data-arming=armed]');
  await touch.move(2, { x: pad.x, y: pad.y - pad.r * 0.7 });
  await until('driving again', async () => (await device.car()).moving);
  await touch.lift(2);
  await until('the stop', async () => !(await device.car()).moving);
});

test('hiding the page stops the car and disarms', async () => {
  const device = await sim();
  const { page } = ctx.browser;
  await armed(page, device);
  const { touch, pad } = await holdForward(page, device);
  // As when the phone rings or the screen locks.
  await page.evaluate(() => {
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
    document.dispatchEvent(new Event('visibilitychange'));
  });
  await until('the stop', async () => !(await device.car()).moving);
  assert.equal(await arming(page), 'disarmed');
  await touch.lift(1);
  await page.evaluate(() => delete document.hidden);
});

test('a stalled link: the device watchdog stops the car, the app disarms and will not move until neutral', async () => {
  const device = await sim();
  const { page, errors } = ctx.browser;
  await armed(page, device);
  const { touch, pad } = await holdForward(page, device);
  await device.stall(4500);
  const car = await until('the watchdog', async () => {
    const c = await device.car();
    return !c.moving ? c : null;
  });
  assert.equal(lastStop(car).reason, 'watchdog');
  const after = lastStop(car).at_ms - car.last_command_ms;
  assert.ok(after <= 300 + 40, `the car stopped ${after} ms after the last command it got`);
  // The app notices the silent link, disarms, and reconnects once the link is back.
  await waitForState(page, 'reconnecting', 5000);
  assert.equal(await arming(page), 'disarmed');
  await waitForState(page, 'connected', 10_000);
  // The finger is still on the stick: arming now waits for neutral and sends no motion.
  await touch.move(1, { x: pad.x, y: pad.y - pad.r * 0.8 });
  await page.click('[data-testid=arm]');
  await page.waitForSelector('[data-testid=drive][data-arming=await-neutral]');
  await touch.move(1, { x: pad.x + 2, y: pad.y - pad.r * 0.75 });
  await page.waitForTimeout(300);
  assert.equal((await device.car()).moving, false, 'no motion until the stick was back at neutral');
  await touch.move(1, pad);
  await page.waitForSelector('[data-testid=drive][data-arming=armed]');
  await touch.move(1, { x: pad.x, y: pad.y - pad.r * 0.7 });
  await until('driving again', async () => (await device.car()).moving);
  await touch.lift(1);
  await until('the stop', async () => !(await device.car()).moving);
  assert.deepEqual(errors, []);
});

test('a second phone watches until the driver lets go', async () => {
  const device = await sim();
  const { page } = ctx.browser;
  const other = await ctx.browser.context.newPage();
  try {
    await armed(page, device);
    const { touch } = await holdForward(page, device);

    await other.goto(`${device.url}#/drive`);
    await waitForState(other, 'connected');
    await other.waitForFunction(() => (document.querySelector('[data-testid=lease]')?.textContent ?? '').startsWith('Watching'));
    await other.click('[data-testid=arm]');
    await other.waitForTimeout(300);
    assert.equal(await arming(other), 'disarmed', 'the claim is refused while the driver drives');
    const driver = (await device.car()).driver;

    // The driver presses STOP: the car stops and the lease is free.
    await page.dispatchEvent('[data-testid=stop]', 'pointerdown');
    await until('the stop and release', async () => {
      const c = await device.car();
      return !c.moving && c.driver === null;
    });
    await touch.lift(1);
    await other.click('[data-testid=arm]');
    await other.waitForFunction(() => (document.querySelector('[data-testid=lease]')?.textContent ?? '') === 'You are driving.');
    assert.notEqual((await device.car()).driver, driver);
    await other.keyboard.down('ArrowUp');
    await until('the second phone drives', async () => (await device.car()).moving);
    await other.keyboard.up('ArrowUp');
    await until('the stop', async () => !(await device.car()).moving);
  } finally {
    await other.close();
  }
});

test('a tutorial car that takes words gets words', async () => {
  const device = await sim(['--dialect', 'text', '--no-hello']);
  const { page } = ctx.browser;
  await page.goto(`${device.url}#/settings`);
  await page.check('#words-on');
  await page.click('form:has(#drive-rate) button[type=submit]');
  await page.waitForFunction(() => (document.querySelector('[data-testid=drive-settings-message]')?.textContent ?? '').startsWith('Saved'));
  await page.goto(`${device.url}#/drive`);
  await waitForState(page, 'connected');
  await arm(page);
  const { touch, pad } = await pushForward(page);
  await until('"up"', async () => (await device.car()).last_command === 'up');
  await touch.move(1, { x: pad.x - pad.r * 0.7, y: pad.y });
  await until('"left"', async () => (await device.car()).last_command === 'left');
  await touch.lift(1);
  await until('"stop"', async () => (await device.car()).last_command === 'stop');
  // Back to wsdeck frames for the tests that follow.
  await page.goto(`${device.url}#/settings`);
  await page.uncheck('#words-on');
  await page.click('form:has(#drive-rate) button[type=submit]');
});

test('blur, lost capture, pagehide, Space and Disarm each stop the car', async () => {
  const device = await sim();
  const { page, errors } = ctx.browser;
  await armed(page, device);
  const touch = await touchscreen(page);
  const pad = await centre(page, '.pad');
  let stops = 0;
  const drive = async (id) => {
    await touch.press(id, pad);
    await touch.move(id, { x: pad.x, y: pad.y - pad.r * 0.7 });
    await until('driving', async () => (await device.car()).moving);
  };
  const stopped = async (what) => {
    const car = await until(`a stop on ${what}`, async () => {
      const c = await device.car();
      return !c.moving && c.stops.length > stops ? c : null;
    });
    stops = car.stops.length;
  };

  // The window loses focus (a notification, another app in split screen).
  await drive(1);
  await page.evaluate(() => window.dispatchEvent(new Event('blur')));
  await stopped('blur');
  assert.equal(await arming(page), 'await-neutral');
  await touch.lift(1);
  await page.waitForSelector('[data-testid=drive][data-arming=armed]');

  // The pad loses its pointer capture.
  await page.evaluate(() => document.addEventListener('pointerdown', (e) => (window.lastPointer = e.pointerId), true));
  await drive(2);
  await page.evaluate(() => document.querySelector('.pad').releasePointerCapture(window.lastPointer));
  // Capture changes are delivered with the pointer's next event.
  await touch.move(2, { x: pad.x + 3, y: pad.y - pad.r * 0.7 });
  await stopped('lost capture');
  await touch.lift(2);

  // Space is the keyboard's STOP. (After the lost capture the app waits for neutral: a new
  // finger at the centre of the pad is neutral.)
  assert.equal(await arming(page), 'await-neutral');
  await drive(3);
  await page.keyboard.press(' ');
  await stopped('Space');
  assert.equal(await arming(page), 'disarmed');
  await touch.lift(3);

  // The Arm button, pressed again, disarms.
  await page.click('[data-testid=arm]');
  await page.waitForSelector('[data-testid=drive][data-arming=armed]');
  await drive(4);
  await page.click('[data-testid=arm]');
  await stopped('Disarm');
  await touch.lift(4);

  // The page is being left (navigation, app switch on iOS).
  await page.click('[data-testid=arm]');
  await page.waitForSelector('[data-testid=drive][data-arming=armed]');
  await drive(5);
  await page.evaluate(() => window.dispatchEvent(new PageTransitionEvent('pagehide', { persisted: true })));
  await stopped('pagehide');
  assert.equal(await arming(page), 'disarmed');
  await touch.lift(5);
  assert.deepEqual(errors, []);
});

// Headless Chromium has no gamepad and refuses wake locks, so both are stood in for by objects
// with the same shape as the browser's.
const STUBS = `
  window.__wake = 0;
  Object.defineProperty(navigator, 'wakeLock', { configurable: true, value: {
    request: async () => { window.__wake++; const s = { release: async () => { window.__wake--; } }; return s; },
  } });
  window.__pad = { connected: true, mapping: 'standard', axes: [0, 0, 0, 0],
    buttons: Array.from({ length: 17 }, () => ({ pressed: false, value: 0 })) };
  navigator.getGamepads = () => (window.__pad.connected ? [window.__pad] : [null]);
`;

test('a gamepad drives, its B button stops, unplugging it stops; the screen stays on while armed', async () => {
  const device = await sim();
  const page = await ctx.browser.context.newPage();
  try {
    await page.addInitScript(STUBS);
    await page.goto(`${device.url}#/drive`);
    await waitForState(page, 'connected');
    // The Drive page (a chunk) listens for the pad: it must be there before the pad is plugged.
    await page.waitForSelector('[data-testid=arm]');
    await page.evaluate(() => window.dispatchEvent(new Event('gamepadconnected')));
    assert.equal(await page.evaluate(() => window.__wake), 0);
    await page.click('[data-testid=arm]');
    await page.waitForSelector('[data-testid=drive][data-arming=armed]');
    await page.waitForFunction(() => window.__wake === 1);

    const stick = (x, y) => page.evaluate(([x, y]) => { window.__pad.axes[0] = x; window.__pad.axes[1] = y; }, [x, y]);
    await stick(0, -1); // up on a gamepad is negative
    await until('forward on the gamepad', async () => (await device.car()).l > 0.9);
    await page.evaluate(() => { window.__pad.buttons[1].pressed = true; });
    await until('B stops', async () => !(await device.car()).moving);
    assert.equal(await arming(page), 'disarmed');
    await page.waitForFunction(() => window.__wake === 0);
    await page.evaluate(() => { window.__pad.buttons[1].pressed = false; });

    await stick(0, 0);
    await page.click('[data-testid=arm]');
    await page.waitForSelector('[data-testid=drive][data-arming=armed]');
    await stick(0.9, 0);
    await until('a spin', async () => (await device.car()).l > 0.5);
    await page.evaluate(() => {
      window.__pad.connected = false;
      window.dispatchEvent(new Event('gamepaddisconnected'));
    });
    await until('unplugging stops', async () => !(await device.car()).moving);
  } finally {
    await page.close();
  }
});

test('axis lock and the speed limit shape what is sent', async () => {
  const device = await sim();
  const { page } = ctx.browser;
  await armed(page, device);
  await page.click('button.lock');
  await page.fill('[data-testid=limit]', '50');
  const touch = await touchscreen(page);
  const pad = await centre(page, '.pad');
  await touch.press(1, pad);
  // Mostly forward, a little right: with the lock, straight ahead at half speed.
  await touch.move(1, { x: pad.x + pad.r * 0.25, y: pad.y - pad.r * 0.8 });
  const car = await until('driving', async () => {
    const c = await device.car();
    return c.moving ? c : null;
  });
  assert.equal(car.l, car.r, 'no turn with the axis locked');
  assert.ok(car.l > 0.3 && car.l <= 0.5, `half speed at most: ${car.l}`);
  await touch.lift(1);
  await until('the stop', async () => !(await device.car()).moving);
  await page.click('button.lock');
  await page.fill('[data-testid=limit]', '100');
});
