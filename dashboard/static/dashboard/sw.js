// The citizen page's service worker: the page loads offline, and SOS queued offline go out on Background Sync.
// Served by dashboard.views.citizen_service_worker, which puts `OFFLINE` ({version, page, assets, createUrl}) first.
/* global OFFLINE, NaariKavachQueue */

importScripts(OFFLINE.assets.find((url) => url.endsWith("sos-queue.js")));

const CACHE = `naarikavach-sos-${OFFLINE.version}`;

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll([OFFLINE.page, ...OFFLINE.assets])).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) if (name.startsWith("naarikavach-sos-") && name !== CACHE) await caches.delete(name);
    await self.clients.claim();
  })());
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== location.origin || url.pathname.startsWith("/api/")) return;
  if (request.mode === "navigate") {
    // The page from the network when there is one (it may have changed), else the copy kept here.
    event.respondWith(fetch(request).then((response) => {
      if (response.ok && url.pathname === OFFLINE.page) caches.open(CACHE).then((cache) => cache.put(OFFLINE.page, response.clone()));
      return response;
    }).catch(() => caches.match(OFFLINE.page)));
    return;
  }
  if (url.pathname.startsWith("/static/") || url.pathname.startsWith(OFFLINE.page)) {
    // Kept copies first (they are versioned with this worker), the messages of a language once fetched.
    event.respondWith(caches.match(request).then((kept) => kept || fetch(request).then((response) => {
      if (response.ok) caches.open(CACHE).then((cache) => cache.put(request, response.clone()));
      return response;
    })));
  }
});

// Background Sync: the browser wakes this worker when the network is back, even if the page is closed.
self.addEventListener("sync", (event) => {
  if (event.tag === "sos-outbox") event.waitUntil(sendQueued());
});

async function sendQueued() {
  for (const item of await NaariKavachQueue.all()) {
    if (item.answer) continue;
    // A failure rejects, and the browser retries the sync later.
    const answer = await NaariKavachQueue.send(item, OFFLINE.createUrl);
    await NaariKavachQueue.put({ ...item, answer });
  }
  for (const client of await self.clients.matchAll({ includeUncontrolled: true })) client.postMessage({ type: "sos-sent" });
}
