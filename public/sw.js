// Service worker of the Backup Management System.
//
// It lets the installed app start without a network: the app shell (the
// offline page, the WASM bundle, styles, icons, the manifest) is cached.
// It never caches responses that carry user data: pages, API answers,
// server functions and health checks always go to the network, and when a
// page cannot be fetched the cached offline page is shown instead.

const CACHE = "bms-shell-v2";

// Fetched without cookies, so nothing in the cache belongs to a user.
// The front end's files (/pkg/, named by their content in a build made by
// scripts/build-release.sh) are the ones the offline page asks for: they
// are read from it at install, and cached as pages load them afterwards.
const SHELL = [
  "/offline",
  "/manifest.webmanifest",
  "/icons/favicon.svg",
  "/icons/icon-192.png",
  "/icons/icon-512.png",
];

const STATIC_PREFIXES = ["/pkg/", "/icons/"];

function isStatic(url) {
  return url.pathname === "/manifest.webmanifest" || STATIC_PREFIXES.some((p) => url.pathname.startsWith(p));
}

// Fetches `path` without cookies into the cache; a failure is skipped, so
// one missing file does not keep the rest from being cached.
function store(cache, path) {
  return fetch(new Request(path, { credentials: "omit" }))
    .then((response) => (response.ok ? cache.put(path, response.clone()).then(() => response) : undefined))
    .catch(() => undefined);
}

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE).then((cache) =>
      Promise.all(
        SHELL.map((path) =>
          store(cache, path).then((response) =>
            path === "/offline" && response
              ? response.text().then((html) => {
                  const assets = new Set(html.match(/\/pkg\/[A-Za-z0-9._-]+/g) || []);
                  return Promise.all([...assets].map((asset) => store(cache, asset)));
                })
              : undefined,
          ),
        ),
      ),
    ),
  );
  self.skipWaiting();
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;

  if (request.mode === "navigate") {
    // Pages carry user data: always from the network, never stored.
    event.respondWith(fetch(request).catch(() => caches.match("/offline")));
    return;
  }

  if (isStatic(url)) {
    // Network first so a new release is picked up at once; the cache is
    // the fallback when offline.
    event.respondWith(
      fetch(request)
        .then((response) => {
          if (response.ok) {
            const copy = response.clone();
            caches.open(CACHE).then((cache) => cache.put(url.pathname, copy));
          }
          return response;
        })
        .catch(() => caches.match(url.pathname).then((hit) => hit || Response.error())),
    );
  }
  // Everything else (API, server functions, /health, events) is left to
  // the network and never cached.
});
