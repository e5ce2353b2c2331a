// The phone's queue of SOS not yet answered by the server, in IndexedDB: shared by the page and the service worker.
// A classic script (the service worker loads it with importScripts): it defines self.NaariKavachQueue.
// Each item is {key, body, queued_at, answer?}; `key` is the SOS's idempotency key, so sending an item
// twice (the page and Background Sync, or a retry) still raises one SOS.

(function (scope) {
  const DB_NAME = "naarikavach";
  const STORE = "sos-outbox";

  function open() {
    return new Promise((resolve, reject) => {
      const request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: "key" });
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }

  async function run(mode, work) {
    const db = await open();
    try {
      return await new Promise((resolve, reject) => {
        const tx = db.transaction(STORE, mode);
        const result = work(tx.objectStore(STORE));
        tx.oncomplete = () => resolve(result && "result" in result ? result.result : undefined);
        tx.onerror = () => reject(tx.error);
      });
    } finally {
      db.close();
    }
  }

  // POST one queued SOS; resolves to the server's answer, rejects with {status, body} or a network TypeError.
  async function send(item, createUrl) {
    const response = await fetch(createUrl, {
      method: "POST",
      credentials: "omit",
      headers: { "Content-Type": "application/json", Accept: "application/json", "Idempotency-Key": item.key,
        ...(item.language ? { "Accept-Language": item.language } : {}) },
      body: JSON.stringify(item.body),
    });
    const text = await response.text();
    const body = text ? JSON.parse(text) : null;
    if (!response.ok) throw { status: response.status, body, retryAfter: Number(response.headers.get("Retry-After")) || 0 };
    return body;
  }

  scope.NaariKavachQueue = {
    put: (item) => run("readwrite", (store) => store.put(item)),
    all: () => run("readonly", (store) => store.getAll()),
    remove: (key) => run("readwrite", (store) => store.delete(key)),
    send,
  };
})(self);
