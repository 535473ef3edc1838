// Main-thread frame time and busy share of one page, from a Chromium trace (shared by the
// benchmarks in e2e/bench/). With a requestAnimationFrame loop on the page (RAF_LOOP, installed
// as an init script), every vsync is a main-thread frame, so pages are counted alike. Frame time
// is the main thread's work for one frame: its rendering task (style, layout, paint, commit) and
// every task since the previous one (socket messages, timers and the DOM updates they make);
// "render p95" is the rendering task alone. Busy % is all main-thread task time over wall time.

export const RAF_LOOP = 'const f = () => requestAnimationFrame(f); requestAnimationFrame(f);';
const CATEGORIES = ['disabled-by-default-devtools.timeline', 'disabled-by-default-devtools.timeline.frame', '__metadata'];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/**
 * The trace events of `page` over `secs` seconds, and the WebSocket frames the page received a
 * second meanwhile, by protocol type (`{"t":"tel"...` -> tel; binary and other frames -> other).
 */
export async function trace(page, secs) {
  const cdp = await page.context().newCDPSession(page);
  const events = [];
  const received = {};
  cdp.on('Tracing.dataCollected', (e) => events.push(...e.value));
  cdp.on('Network.webSocketFrameReceived', ({ response }) => {
    const t = (response.opcode === 1 && /^\{"t":"(\w+)"/.exec(response.payloadData)?.[1]) || 'other';
    received[t] = (received[t] ?? 0) + 1;
  });
  await cdp.send('Network.enable');
  const start = Date.now();
  const complete = new Promise((r) => cdp.once('Tracing.tracingComplete', r));
  await cdp.send('Tracing.start', { traceConfig: { includedCategories: CATEGORIES }, transferMode: 'ReportEvents' });
  await sleep(secs * 1000);
  await cdp.send('Tracing.end');
  await complete;
  const wall_s = (Date.now() - start) / 1000;
  await cdp.detach();
  const perSecond = Object.fromEntries(Object.entries(received).map(([t, n]) => [t, n / wall_s]));
  return { events, perSecond };
}

/** Frame times and busy share from the renderer main thread's trace events. */
export function analyse(events, secs) {
  // The page's renderer (the browser has others: the context's other pages, about:blank).
  const started = events.find((e) => e.name === 'TracingStartedInBrowser');
  const pid = started?.args.data.frames.find((f) => f.isOutermostMainFrame)?.processId;
  const main = events.find((e) => e.name === 'thread_name' && e.args?.name === 'CrRendererMain' && e.pid === pid);
  if (!main) throw new Error("no main thread of the page's renderer in the trace");
  const own = events.filter((e) => e.pid === main.pid && e.tid === main.tid);
  // Top-level tasks only (a nested run loop's tasks are inside their parent's time).
  const tasks = [];
  for (const t of own.filter((e) => e.name === 'RunTask' && e.ph === 'X').sort((a, b) => a.ts - b.ts)) {
    const last = tasks.at(-1);
    if (!last || t.ts >= last.ts + last.dur) tasks.push(t);
  }
  const begins = own.filter((e) => e.name === 'BeginMainThreadFrame').map((e) => e.ts);
  const [frames, renders] = [[], []];
  let [work, b] = [0, 0];
  for (const t of tasks) {
    work += t.dur;
    while (b < begins.length && begins[b] < t.ts) b++;
    if (b < begins.length && begins[b] <= t.ts + t.dur) {
      // This task rendered a frame: it and the tasks since the last one are that frame's work.
      frames.push(work / 1000);
      renders.push(t.dur / 1000);
      work = 0;
    }
  }
  frames.shift(); // the first one's work started before the trace did
  const sorted = [...frames].sort((p, q) => p - q);
  const rendering = renders.sort((p, q) => p - q);
  const span = (tasks.at(-1).ts + tasks.at(-1).dur - tasks[0].ts) / 1e6 || secs;
  const busy = tasks.reduce((s, t) => s + t.dur, 0) / 1e6;
  return {
    frames: frames.length,
    fps: frames.length / span,
    p50_ms: percentile(sorted, 50),
    p95_ms: percentile(sorted, 95),
    max_ms: sorted.at(-1),
    render_p95_ms: percentile(rendering, 95),
    busy_pct: (busy / span) * 100,
    longest_task_ms: Math.max(...tasks.map((t) => t.dur)) / 1000,
    // How often the page's DOM changed (the app publishes values per tick, not per frame).
    restyles_per_s: own.filter((e) => e.name === 'ScheduleStyleRecalculation').length / span,
  };
}
