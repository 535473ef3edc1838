// Devices we did not write, for the e2e tests: the scripts in e2e/devices (Microdot, the pinned
// release from PyPI, on CPython in e2e/.venv), each started on 127.0.0.1 on a free port and
// stopped by its PID when the suite ends.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort, until } from './harness.mjs';

const PYTHON = process.env.WSDECK_PYTHON || fileURLToPath(new URL('../.venv/bin/python', import.meta.url));
const DEVICES = fileURLToPath(new URL('../devices/', import.meta.url));

/** The WebSocket messages a Microdot script printed that it received, in order. */
export const heardIn = (out) =>
  out.split('\n').flatMap((l) => (l.startsWith('receive websocket message : ') ? [l.slice(28)] : []));

/**
 * Runs e2e/devices/`script` with `args` and resolves once it answers HTTP, as
 * `{ port, base, wsUrl, output(), stop() }`; it is added to `devices` so that the suite's
 * `after` can stop every one.
 */
export async function startDevice(devices, script, args = []) {
  const port = await freePort();
  const proc = spawn(PYTHON, ['-u', `${DEVICES}${script}`, '127.0.0.1', String(port), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout.on('data', (c) => (out += c));
  proc.stderr.on('data', (c) => (out += c));
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  const base = `http://127.0.0.1:${port}`;
  const d = {
    port,
    base,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    output: () => out,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
    },
  };
  devices.push(d);
  await until(
    `${script} to answer (is e2e/.venv made? \`cargo xtask test\` makes it)\n${out}`,
    async () => {
      if (proc.exitCode !== null) throw new Error(`${script} exited with ${proc.exitCode}:\n${out}`);
      return fetch(`${base}/`).then((r) => r.ok, () => false);
    },
    10_000,
  );
  return d;
}
