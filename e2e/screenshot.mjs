// Makes docs/screenshot.png (the README's picture): the app on a phone-sized screen, connected
// to the simulator. Run after a release build:
//   cargo xtask dist && cargo build -p wsdeck-sim
//   WSDECK_SIM=target/debug/wsdeck-sim WSDECK_DIST=dist node e2e/screenshot.mjs
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch, startSim, waitForState } from './lib/harness.mjs';

const out = process.argv[2] ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'screenshot.png');
const device = await startSim({ args: ['--name', 'Robot car', '--rate', '20'] });
const browser = await launch({ viewport: { width: 390, height: 640 }, colorScheme: 'dark' });
try {
  await browser.page.goto(device.url);
  await waitForState(browser.page, 'connected');
  await browser.page.waitForSelector('.tile[data-series=rssi_dbm]');
  await browser.page.waitForTimeout(2500); // let RTT and rate settle
  await browser.page.screenshot({ path: out });
  console.log(`wrote ${out}`);
} finally {
  await browser.close();
  await device.kill();
}
