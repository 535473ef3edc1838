// wsdeck's service worker: keeps the app shell so that the installed app opens without the
// device. `cargo xtask` writes dist/sw.js from this template after every build, filling in
// VERSION (a hash of every dist file and of this template) and PRECACHE (every dist file): no
// list is kept by hand. See docs/ARCHITECTURE.md, "Installable app".
//
// Cache-first for exactly the precached files; everything else (the device's /ws, the
// simulator's /sim/, other origins, anything not a GET) is left to the network untouched.
// A new version waits until the page asks it to take over (the "Update available" prompt).
const VERSION = __WSDECK_VERSION__;
const PRECACHE = __WSDECK_PRECACHE__;
const PREFIX = 'wsdeck-';
const CACHE = PREFIX + VERSION;

self.addEventListener('install', (event) => {
  // Plain requests: hashed files the page loaded a moment ago come from the HTTP cache, so a
  // device serves the app about once, not twice.
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(PRECACHE)));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith(PREFIX) && k !== CACHE).map((k) => caches.delete(k)))),
  );
});

self.addEventListener('message', (event) => {
  if (event.data && event.data.type === 'skip-waiting') self.skipWaiting();
});

/** The precached file that answers `request`, or null when the network should. */
function cachedPath(request) {
  if (request.method !== 'GET') return null;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return null;
  const scope = new URL(self.registration.scope).pathname;
  if (!url.pathname.startsWith(scope)) return null;
  const path = url.pathname.slice(scope.length);
  if (path === 'ws' || path.startsWith('sim/') || url.pathname.startsWith('/sim/')) return null;
  // The page itself, whatever its query (?ws=...): the one app shell.
  if (request.mode === 'navigate' && (path === '' || path === 'index.html')) return 'index.html';
  return PRECACHE.includes(path) ? path : null;
}

self.addEventListener('fetch', (event) => {
  const path = cachedPath(event.request);
  if (path === null) return;
  event.respondWith(
    caches
      .open(CACHE)
      .then((cache) => cache.match(path))
      .then((hit) => hit || fetch(event.request)),
  );
});
