// A seeded fault-injecting TCP proxy between the app and wsdeck-sim, scriptable from tests:
// latency + jitter, a bandwidth cap, stalls (a half-open link), abrupt closes (RST), an upstream
// that goes away and comes back, and forged WebSocket frames (garbage, truncated, binary,
// fragmented, oversized, a telemetry flood) injected toward the app. `tc netem` does not work on
// the project's machines, so faults are made here, in user space. See docs/RELIABILITY.md.
//
// It is frame-aware: after the HTTP upgrade each direction is cut into whole WebSocket frames, so
// that delays, stalls and injections keep the stream valid (a fault never splits a frame unless it
// means to). Frames are forwarded byte for byte; nothing is re-masked or re-encoded.
import net from 'node:net';

/** Deterministic PRNG (mulberry32): the same seed gives the same jitter, run after run. */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const OP = { CONT: 0x0, TEXT: 0x1, BINARY: 0x2, CLOSE: 0x8, PING: 0x9, PONG: 0xa };

/** One WebSocket frame as a server sends it (unmasked). `len` overrides the announced length. */
export function frame(opcode, payload, { fin = true, len } = {}) {
  const body = typeof payload === 'string' ? Buffer.from(payload) : Buffer.from(payload ?? []);
  const n = len ?? body.length;
  let head;
  if (n < 126) {
    head = Buffer.from([(fin ? 0x80 : 0) | opcode, n]);
  } else if (n < 65536) {
    head = Buffer.alloc(4);
    head[1] = 126;
    head.writeUInt16BE(n, 2);
  } else {
    head = Buffer.alloc(10);
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(n), 2);
  }
  head[0] = (fin ? 0x80 : 0) | opcode;
  return Buffer.concat([head, body]);
}

/** Forged frames toward the app, by fault name. Each is a list of raw frames (Buffers). */
export const forge = {
  text: (s) => [frame(OP.TEXT, s)],
  garbage: () => [frame(OP.TEXT, '}{ not json \u00e9\u0000'), frame(OP.TEXT, '{"t":"tel","d":')],
  binary: () => [frame(OP.BINARY, Buffer.from([0, 1, 2, 0xff, 0xfe]))],
  /** One text message in three fragments with a ping between them, as RFC 6455 allows. */
  fragmented: (s = '{"t":"tel","d":{"frag_v":42}}') => {
    const a = Math.floor(s.length / 3);
    return [
      frame(OP.TEXT, s.slice(0, a), { fin: false }),
      frame(OP.CONT, s.slice(a, 2 * a), { fin: false }),
      frame(OP.PING, 'x'),
      frame(OP.CONT, s.slice(2 * a)),
    ];
  },
  /** A text frame over the app's 64 KiB limit (still valid JSON). */
  oversized: (bytes = 1024 * 1024) => [frame(OP.TEXT, `{"t":"tel","d":{"big":"${'x'.repeat(bytes)}"}}`)],
  /** A header that promises 32 KiB followed by 10 bytes: the browser waits for the rest, and
   * swallows the frames that follow as its payload. Only the dead-link rule gets out of this. */
  truncated: () => [frame(OP.TEXT, '{"t":"tel"', { len: 32 * 1024 })],
  /** A frame with a reserved opcode: the browser must fail the connection. */
  invalid: () => [Buffer.from([0x83, 0x02, 0x7b, 0x7d])],
};

/** A telemetry frame with a value for each of `series` (by default a counter of its own). */
export function telemetry(i, series = ['flood_n']) {
  const d = series.map((name, k) => `"${name}":${(i % 1000) / 10 + k}`).join(',');
  return frame(OP.TEXT, `{"t":"tel","ms":${i},"d":{${d}}}`);
}

/** Cuts a byte stream into the HTTP head, then whole WebSocket frames. */
class Cutter {
  constructor(onUnit) {
    this.buf = Buffer.alloc(0);
    this.mode = 'http';
    this.onUnit = onUnit;
  }

  push(chunk) {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    for (;;) {
      if (this.mode === 'raw') {
        if (this.buf.length) this.onUnit({ kind: 'raw', buf: this.buf });
        this.buf = Buffer.alloc(0);
        return;
      }
      if (this.mode === 'http') {
        const end = this.buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = this.buf.subarray(0, end + 4);
        this.buf = this.buf.subarray(end + 4);
        const text = head.toString('latin1');
        const upgrade = /^HTTP\/1\.1 101/.test(text) || /^upgrade:\s*websocket/im.test(text);
        this.mode = upgrade ? 'frames' : 'raw';
        this.onUnit({ kind: 'http', buf: head });
        continue;
      }
      if (this.buf.length < 2) return;
      const b1 = this.buf[1];
      let n = b1 & 0x7f;
      let at = 2;
      if (n === 126) {
        if (this.buf.length < 4) return;
        n = this.buf.readUInt16BE(2);
        at = 4;
      } else if (n === 127) {
        if (this.buf.length < 10) return;
        n = Number(this.buf.readBigUInt64BE(2));
        at = 10;
      }
      if (b1 & 0x80) at += 4;
      if (this.buf.length < at + n) return;
      const b0 = this.buf[0];
      this.onUnit({ kind: 'frame', buf: this.buf.subarray(0, at + n), opcode: b0 & 0x0f, fin: !!(b0 & 0x80) });
      this.buf = this.buf.subarray(at + n);
    }
  }
}

const HIGH_WATER = 64 * 1024;

/** One direction of one connection: schedules units by latency, jitter and bandwidth, in order. */
class Lane {
  constructor(proxy, dir, src, dst) {
    Object.assign(this, { proxy, dir, src, dst });
    this.queue = [];
    this.queued = 0;
    this.lastAt = 0;
    this.linkFreeAt = 0;
    this.timer = null;
    this.blocked = false;
    /** Inside a fragmented message: injections wait for its end. */
    this.midMessage = false;
    this.pendingInjections = [];
    this.framing = false;
    this.cutter = new Cutter((u) => this.arrive(u));
    src.on('data', (chunk) => this.cutter.push(chunk));
    dst.on('drain', () => {
      this.blocked = false;
      this.pump();
    });
  }

  /** A unit read from the source. Lost while the link is stalled. */
  arrive(unit) {
    if (unit.kind === 'http' && this.cutter.mode === 'frames') this.framing = true;
    if (this.proxy.stalled) {
      this.proxy.stats.lost++;
      return;
    }
    if (unit.kind === 'frame') {
      this.proxy.stats[this.dir === 'up' ? 'framesUp' : 'framesDown']++;
      if (unit.opcode !== OP.PING && unit.opcode !== OP.PONG && unit.opcode !== OP.CLOSE) this.midMessage = !unit.fin;
    }
    this.enqueue(unit);
    if (!this.midMessage && this.pendingInjections.length) {
      for (const buf of this.pendingInjections.splice(0)) this.enqueue({ kind: 'frame', buf });
    }
  }

  /** Forged frames toward the destination, at a frame boundary. */
  inject(bufs) {
    if (!this.framing || this.dst.destroyed) return false;
    this.proxy.stats.injected += bufs.length;
    if (this.midMessage) this.pendingInjections.push(...bufs);
    else for (const buf of bufs) this.enqueue({ kind: 'frame', buf });
    return true;
  }

  enqueue(unit) {
    const f = this.proxy.faults[this.dir];
    const now = performance.now();
    const size = unit.buf?.length ?? 0;
    let at = now;
    if (f.bandwidth > 0) {
      // `shared`: one link for every connection (a device's radio), else one per connection.
      const prev = f.shared ? (this.proxy.linkFreeAt[this.dir] ?? 0) : this.linkFreeAt;
      at = Math.max(now, prev) + (size * 1000) / f.bandwidth;
      if (f.shared) this.proxy.linkFreeAt[this.dir] = at;
      else this.linkFreeAt = at;
    }
    at += f.latency + (f.jitter > 0 ? this.proxy.random() * f.jitter : 0);
    // TCP delivers in order: a unit never overtakes the one before it.
    at = Math.max(at, this.lastAt);
    this.lastAt = at;
    unit.at = at;
    unit.since = now;
    this.queue.push(unit);
    this.queued += size;
    if (this.queued > HIGH_WATER) this.src.pause();
    this.pump();
  }

  pump() {
    clearTimeout(this.timer);
    this.timer = null;
    const now = performance.now();
    while (this.queue.length && !this.blocked && this.queue[0].at <= now) {
      const unit = this.queue.shift();
      this.queued -= unit.buf?.length ?? 0;
      const key = this.dir === 'up' ? 'maxUpDelayMs' : 'maxDownDelayMs';
      this.proxy.stats[key] = Math.max(this.proxy.stats[key], now - unit.since);
      if (this.dst.destroyed) continue;
      if (unit.kind === 'end') this.dst.end();
      else if (unit.kind === 'reset') this.dst.resetAndDestroy();
      else if (!this.dst.write(unit.buf)) this.blocked = true;
    }
    if (this.queued <= HIGH_WATER / 2 && !this.src.destroyed && this.src.isPaused()) this.src.resume();
    if (this.queue.length && !this.blocked) {
      this.timer = setTimeout(() => this.pump(), Math.max(0, this.queue[0].at - now));
    }
  }

  close() {
    clearTimeout(this.timer);
    this.queue = [];
  }
}

/** One connection from the app, and its twin to the simulator. */
class Pair {
  constructor(proxy, client) {
    this.proxy = proxy;
    this.client = client;
    this.upstream = null;
    this.clientGone = false;
    this.upstreamGone = false;
    client.setNoDelay(true);
    client.on('error', () => {});
    client.on('close', (hadError) => {
      this.clientGone = true;
      this.settle('client', hadError);
    });
  }

  /** Connects to the simulator; when nobody listens there, refuses (RST) or holds the app's
   * connection until someone does, as the proxy's `upstreamDown` says. */
  connect() {
    if (this.clientGone) return;
    const up = net.connect(this.proxy.target, '127.0.0.1');
    up.setNoDelay(true);
    let opened = false;
    up.once('connect', () => {
      opened = true;
      this.upstream = up;
      this.up = new Lane(this.proxy, 'up', this.client, up);
      this.down = new Lane(this.proxy, 'down', up, this.client);
      this.client.resume();
    });
    up.on('error', () => {});
    up.on('close', (hadError) => {
      if (!opened) {
        if (this.proxy.upstreamDown === 'hold' && !this.clientGone) setTimeout(() => this.connect(), 50);
        else this.client.resetAndDestroy();
        return;
      }
      this.upstreamGone = true;
      this.settle('upstream', hadError);
    });
  }

  /** One side ended: pass it on (a reset as a reset), unless the link is stalled. */
  settle(side, hadError = false) {
    if (this.proxy.stalled) return; // half-open: nobody hears about it until the link is back
    if (side === 'client' && this.upstream && !this.upstream.destroyed) {
      this.up?.enqueue({ kind: hadError ? 'reset' : 'end' });
    } else if (side === 'upstream' && !this.client.destroyed) {
      this.down?.enqueue({ kind: hadError ? 'reset' : 'end' });
    }
    if (this.clientGone && (this.upstreamGone || !this.upstream)) this.proxy.pairs.delete(this);
  }

  reset() {
    this.up?.close();
    this.down?.close();
    this.client.resetAndDestroy();
    this.upstream?.resetAndDestroy();
  }
}

/**
 * Starts a proxy on 127.0.0.1 toward `target` (the simulator's port). Returns a handle:
 * `set({ latency, jitter, bandwidth }, dir)`, `clear()`, `stall()`, `resume()`, `reset()`,
 * `inject(frames)`, `flood({ rate, ms })`, `stats`, `connections()`, `close()`.
 */
export async function startProxy({ target, seed = 1, upstreamDown = 'refuse' } = {}) {
  const none = () => ({ latency: 0, jitter: 0, bandwidth: 0 });
  const proxy = {
    target,
    upstreamDown,
    random: prng(seed),
    faults: { up: none(), down: none() },
    stalled: false,
    /** When the shared link is free again, per direction. */
    linkFreeAt: {},
    pairs: new Set(),
    held: [],
    stats: { accepted: 0, framesUp: 0, framesDown: 0, lost: 0, injected: 0, flooded: 0, resets: 0, maxUpDelayMs: 0, maxDownDelayMs: 0 },
  };
  const server = net.createServer({ pauseOnConnect: true }, (client) => {
    proxy.stats.accepted++;
    const pair = new Pair(proxy, client);
    proxy.pairs.add(pair);
    // A connection made while the link is stalled gets nowhere until it is back (SYNs lost).
    if (proxy.stalled) proxy.held.push(pair);
    else pair.connect();
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = server.address().port;
  let floodTimer = null;

  return {
    port,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    stats: proxy.stats,
    /** Open connections from the app. */
    connections: () => [...proxy.pairs].filter((p) => !p.clientGone).length,
    /** Latency (ms), jitter (ms, uniform, seeded) and a bandwidth cap (bytes/s) on `dir`:
     * 'up' (app -> device), 'down' (device -> app) or 'both'; `shared`: the cap is for all
     * connections together (else for each). */
    set({ latency = 0, jitter = 0, bandwidth = 0, shared = false } = {}, dir = 'both') {
      for (const d of dir === 'both' ? ['up', 'down'] : [dir]) proxy.faults[d] = { latency, jitter, bandwidth, shared };
    },
    clear() {
      proxy.faults = { up: none(), down: none() };
    },
    /** Where the simulator listens (after a restart on another port). */
    retarget(port) {
      proxy.target = port;
    },
    upstreamDown(mode) {
      proxy.upstreamDown = mode;
    },
    /** A half-open link: from now on nothing is forwarded (frames are lost) and nothing is
     * closed, both ways; new connections hang. Returns when it began (ms since the epoch). */
    stall() {
      proxy.stalled = true;
      return Date.now();
    },
    /** The link is back. Ends that happened during the stall arrive now, as resets (a device
     * learns that a phone gave up only when it next talks to it); held connections go on. */
    resume() {
      proxy.stalled = false;
      for (const pair of [...proxy.pairs]) {
        if (pair.clientGone && pair.upstream && !pair.upstream.destroyed) pair.upstream.resetAndDestroy();
        else if (pair.upstreamGone && !pair.client.destroyed) pair.client.resetAndDestroy();
      }
      for (const pair of proxy.held.splice(0)) pair.connect();
      return Date.now();
    },
    /** Abrupt close: every connection is reset (RST) both ways, nothing is flushed. */
    reset() {
      for (const pair of [...proxy.pairs]) pair.reset();
      proxy.stats.resets++;
      return Date.now();
    },
    /** Sends forged frames (Buffers, see `forge`) to every app connection; returns how many got them. */
    inject(bufs) {
      let n = 0;
      for (const pair of proxy.pairs) if (pair.down?.inject(bufs)) n++;
      return n;
    },
    /** Telemetry toward the app at `rate` frames/s for `ms`, on top of the device's own. A
     * connection whose socket is more than 1 MiB behind skips frames (counted in stats.flooded
     * only when sent). Resolves when the flood is over. */
    flood({ rate = 5000, ms = 3000, series } = {}) {
      const start = performance.now();
      let sent = 0;
      return new Promise((resolve) => {
        clearInterval(floodTimer);
        floodTimer = setInterval(() => {
          const elapsed = performance.now() - start;
          const due = Math.floor((Math.min(elapsed, ms) * rate) / 1000);
          const batch = [];
          for (; sent < due; sent++) batch.push(telemetry(sent, series));
          for (const pair of proxy.pairs) {
            if (pair.client.writableLength < 1024 * 1024 && pair.down?.inject(batch)) proxy.stats.flooded += batch.length;
          }
          if (elapsed >= ms) {
            clearInterval(floodTimer);
            resolve(sent);
          }
        }, 5);
      });
    },
    async close() {
      clearInterval(floodTimer);
      for (const pair of [...proxy.pairs]) pair.reset();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
