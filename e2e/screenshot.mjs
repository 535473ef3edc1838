// Makes the README's pictures: docs/screenshot.png (live values), docs/charts.png and docs/drive.png (driving),
// docs/drive-landscape.png and drive-landscape-stick.png (driving with the phone held sideways),
// the app on a phone-sized screen connected to the simulator. Run after a release build:
//   cargo xtask dist && cargo build -p wsdeck-sim
//   WSDECK_SIM=target/debug/wsdeck-sim WSDECK_DIST=dist node e2e/screenshot.mjs
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { armed, centre, chart, holdForward, launch, startSim, touchscreen, waitForState } from './lib/harness.mjs';

const docs = process.argv[2] ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'docs');
const device = await startSim({ args: ['--name', 'Robot car', '--rate', '20'] });
const browser = await launch({ viewport: { width: 390, height: 640 }, colorScheme: 'dark' });
try {
  await browser.page.goto(device.url);
  await waitForState(browser.page, 'connected');
  await browser.page.waitForSelector('.tile[data-series=rssi_dbm]');
  await browser.page.waitForTimeout(2500); // let RTT and rate settle
  await browser.page.screenshot({ path: path.join(docs, 'screenshot.png') });
  const page = browser.page;
  // The charts, with the crosshair on the obstacle distance.
  await page.waitForTimeout(8000);
  const canvas = await page.$(chart('distance_cm'));
  await page.evaluate(() => document.querySelector('[data-testid=readout]').scrollIntoView());
  const box = await canvas.boundingBox();
  await page.mouse.move(box.x + box.width * 0.7, box.y + box.height * 0.6);
  await page.waitForTimeout(300);
  await page.screenshot({ path: path.join(docs, 'charts.png') });
  await armed(page, device);
  const { touch, pad } = await holdForward(page, device);
  await touch.move(1, { x: pad.x + pad.r * 0.3, y: pad.y - pad.r * 0.6 });
  await page.waitForTimeout(500);
  await page.screenshot({ path: path.join(docs, 'drive.png') });
  await touch.lift(1);
  console.log(`wrote ${docs}/screenshot.png, charts.png and drive.png`);
} finally {
  await browser.close();
}

// The phone held sideways: Tank with both thumbs down, and the stick.
const sideways = await launch({ viewport: { width: 844, height: 390 }, colorScheme: 'dark' });
try {
  const page = sideways.page;
  for (const [mode, file] of [['tank', 'drive-landscape.png'], ['stick', 'drive-landscape-stick.png']]) {
    await page.goto('about:blank');
    await armed(page, device, { mode });
    const touch = await touchscreen(page);
    const pads = await page.$$eval('.pad', (ps) => ps.map((p) => p.dataset.control));
    for (const [i, control] of pads.entries()) {
      const pad = await centre(page, `.pad[data-control=${control}]`);
      await touch.press(i + 1, pad);
      await touch.move(i + 1, { x: pad.x + pad.r * (mode === 'tank' ? 0 : 0.3), y: pad.y - pad.r * (i ? 0.4 : 0.65) });
    }
    await page.waitForTimeout(2500); // let RTT and the battery settle
    await page.screenshot({ path: path.join(docs, file) });
    for (let i = pads.length; i >= 1; i -= 1) await touch.lift(i);
  }
  console.log(`wrote ${docs}/drive-landscape.png and drive-landscape-stick.png`);
} finally {
  await sideways.close();
  await device.kill();
}
