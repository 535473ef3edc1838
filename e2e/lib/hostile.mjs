// Hostile clients on the device itself (issue #13): connections that flood it with empty
// continuation frames after an unfinished message, and squatters that hold connection places
// (WebSockets that never send, request heads sent a byte at a time). Each reconnects when closed,
// until the end. Runs in a worker thread, so that its writing does not hold up the fault proxy or
// the test on the main thread. Used by the "hostile" scenario of e2e/lib/faults.mjs.
import net from 'node:net';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

const UPGRADE = (port) =>
  `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';

/** A masked client frame of at most 125 bytes. */
function frame(fin, opcode, payload = Buffer.alloc(0)) {
  const mask = [1, 2, 3, 4];
  const head = Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | payload.length, ...mask]);
  return Buffer.concat([head, Buffer.from(payload.map((b, i) => b ^ mask[i % 4]))]);
}

/** Opens connections of `kind` again and again until `until` (ms since the epoch). */
function keep(port, kind, until, counts) {
  if (Date.now() >= until) return;
  const s = net.connect(port, '127.0.0.1');
  let timer = null;
  const again = () => {
    clearInterval(timer);
    s.destroy();
    if (Date.now() < until) setTimeout(() => keep(port, kind, until, counts), 5);
  };
  s.on('error', again);
  s.on('close', again);
  s.setTimeout(Math.max(1, until - Date.now()), again);
  counts.connections++;
  if (kind === 'slow-head') {
    // Slowloris: a request head that never ends, a byte every 300 ms.
    s.on('connect', () => {
      s.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
      timer = setInterval(() => s.write('a'), 300);
    });
    return;
  }
  s.on('connect', () => s.write(UPGRADE(port)));
  if (kind === 'silent') return; // a WebSocket that never sends a frame
  const batch = Buffer.concat(Array.from({ length: 2048 }, () => frame(false, 0x0)));
  let upgraded = false;
  s.on('data', () => {
    if (upgraded) return;
    upgraded = true;
    s.write(frame(false, 0x1, Buffer.from('{"t":')));
    const flood = () => {
      while (Date.now() < until && !s.destroyed) {
        counts.frames += 2048;
        if (!s.write(batch)) return s.once('drain', flood);
      }
    };
    flood();
  });
}

/**
 * Starts `floods` continuation-frame floods and `squatters` squatters (half silent WebSockets,
 * half slow request heads) on the device at `port` for `ms`. Resolves, when they are over, to
 * `{ connections, frames }`: how many connections they opened and continuation frames they sent.
 */
export function hostile(port, { floods = 4, squatters = 16, ms = 3000 } = {}) {
  const worker = new Worker(new URL(import.meta.url), { workerData: { port, floods, squatters, ms } });
  return new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}

if (!isMainThread) {
  const { port, floods, squatters, ms } = workerData;
  const until = Date.now() + ms;
  const counts = { connections: 0, frames: 0 };
  for (let i = 0; i < floods; i++) keep(port, 'flood', until, counts);
  for (let i = 0; i < squatters; i++) keep(port, i % 2 ? 'silent' : 'slow-head', until, counts);
  setTimeout(() => {
    parentPort.postMessage(counts);
    process.exit(0);
  }, ms + 50);
}
