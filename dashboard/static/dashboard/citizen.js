// The citizen SOS page: countdown, raise the alert (with or without a location, online or queued),
// stream the phone's position, show the police's response, cancel with a PIN.
/* global NaariKavachQueue */

import { apiClient, ApiError } from "./api.js";
import { connectRealtime } from "./realtime.js";

const config = JSON.parse(document.getElementById("sos-config").textContent);
const STORAGE_KEY = "naarikavach.sos";
const DEVICE_KEY = "naarikavach.device";
const LAST_FIX_KEY = "naarikavach.lastFix";
const COUNTDOWN_SECONDS = 3;
// A fresh fix is worth a short wait, not more: without one the SOS goes out at once as "location pending".
const FIRST_FIX_TIMEOUT_MS = 4000;
// While the location is pending the page asks again this often (and at once when permission is granted).
const LOCATION_RETRY_MS = 5000;
// The API accepts far more, but a point every few seconds is plenty for a map and spares the battery.
const MIN_POINT_INTERVAL_MS = 4000;
const RETRY_MIN_MS = 2000;
const RETRY_MAX_MS = 30000;
const CREATE_URL = "/api/create-sos/";
const OPEN = new Set(config.statuses.sos_open); // from the server: the models' one rule

// Messages come from Django's JavaScript catalogue (loaded before this module); English without it.
// Every message is a literal inside a gettext call, so that `makemessages -d djangojs` finds it.
const gettext = window.gettext || ((text) => text);
const fmt = (text, values) => text.replace(/%\((\w+)\)s/g, (_, key) => values[key]);

const $ = (id) => document.getElementById(id);
const page = document.querySelector("main.citizen");
const queue = window.NaariKavachQueue;

let current = null; // {sos_id, room_id, access_token, location_pending, has_pin}, also in localStorage
let api = null;
let realtime = null;
let watchId = null;
let locationRetry = null;
let countdownTimer = null;
let pressKey = null; // the idempotency key of the press being counted down or sent
let lastPointAt = 0;
let pendingPoint = null;
let pointTimer = null;
let deliveryTimer = null;
let retryDelay = RETRY_MIN_MS;
let delivering = false;
let deliverAgain = false;

function setState(state) {
  page.dataset.state = state;
}

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = !message;
}

function randomKey() {
  return crypto.randomUUID ? crypto.randomUUID() : [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

// A random id this phone keeps: flood control counts phones, so a neighbour's flood never mutes her.
function deviceId() {
  let id = localStorage.getItem(DEVICE_KEY);
  if (!id) {
    id = randomKey().replace(/[^A-Za-z0-9_-]/g, "");
    localStorage.setItem(DEVICE_KEY, id);
  }
  return id;
}

function remember(alert) {
  current = alert;
  if (alert) localStorage.setItem(STORAGE_KEY, JSON.stringify(alert));
  else localStorage.removeItem(STORAGE_KEY);
  // The API answers her in the page's language.
  api = alert ? apiClient({ "X-SOS-Token": alert.access_token, "Accept-Language": config.language }) : null;
}

function remembered() {
  try {
    const alert = JSON.parse(localStorage.getItem(STORAGE_KEY));
    return alert && alert.sos_id && alert.access_token ? alert : null;
  } catch {
    return null;
  }
}

// The call and SMS buttons ------------------------------------------------------------------------

function updateSmsLink(fix) {
  const number = config.emergencyNumber;
  const where = fix ? fmt(gettext("My location: %(lat)s, %(lng)s (±%(acc)s m) https://www.openstreetmap.org/?mlat=%(lat)s&mlon=%(lng)s"),
    { lat: fix.latitude.toFixed(5), lng: fix.longitude.toFixed(5), acc: Math.round(fix.accuracy_m || 0) }) : gettext("My location is not known.");
  const text = `${gettext("SOS. I need help.")} ${where}`;
  $("sms-112").href = `sms:${number}?body=${encodeURIComponent(text)}`;
}

// Positions ---------------------------------------------------------------------------------------

function fixFrom(position) {
  return {
    latitude: position.coords.latitude,
    longitude: position.coords.longitude,
    accuracy_m: position.coords.accuracy ?? null,
    recorded_at: new Date(position.timestamp || Date.now()).toISOString(),
  };
}

function keepFix(fix) {
  localStorage.setItem(LAST_FIX_KEY, JSON.stringify(fix));
  updateSmsLink(fix);
}

function lastFix() {
  try {
    return JSON.parse(localStorage.getItem(LAST_FIX_KEY));
  } catch {
    return null;
  }
}

function currentFix(timeout) {
  return new Promise((resolve) => {
    if (!navigator.geolocation) return resolve(null);
    navigator.geolocation.getCurrentPosition((position) => {
      const fix = fixFrom(position);
      keepFix(fix);
      resolve(fix);
    }, () => resolve(null), { enableHighAccuracy: true, timeout, maximumAge: 30000 });
  });
}

function deviceHints() {
  const hints = { timezone: Intl.DateTimeFormat().resolvedOptions().timeZone || "", language: navigator.language || "" };
  const connection = navigator.connection && navigator.connection.effectiveType;
  if (connection) hints.network = String(connection).slice(0, 16);
  return hints;
}

// Countdown -----------------------------------------------------------------------------------

function startCountdown() {
  // A second press (or a double tap) during the countdown is the same SOS.
  if (page.dataset.state !== "idle") return;
  const pin = $("pin").value.trim();
  const duress = $("duress-pin").value.trim();
  if ((pin || duress) && !validPins(pin, duress)) return;
  showError("");
  pressKey = randomKey();
  let left = COUNTDOWN_SECONDS;
  $("countdown").textContent = left;
  setState("counting");
  countdownTimer = setInterval(() => {
    left -= 1;
    $("countdown").textContent = left;
    if (left <= 0) {
      clearInterval(countdownTimer);
      raise();
    }
  }, 1000);
}

function validPins(pin, duress) {
  if (!/^[0-9]{4}$/.test(pin) || (duress && (!/^[0-9]{4}$/.test(duress) || duress === pin))) {
    if (page.dataset.state === "idle") $("pin-setup").open = true;
    showError(gettext("A PIN is 4 digits, and the duress PIN must be different. Or leave both empty."));
    return false;
  }
  return true;
}

function abortCountdown() {
  clearInterval(countdownTimer);
  pressKey = null;
  setState("idle");
}

// Raising the alert ----------------------------------------------------------------------------

async function raise() {
  setState("sending");
  const key = pressKey;
  const fix = await currentFix(FIRST_FIX_TIMEOUT_MS);
  const me = { name: $("name").value.trim(), phone: $("phone").value.trim() };
  localStorage.setItem("naarikavach.me", JSON.stringify(me));
  const body = { name: me.name || "Anonymous", phone: me.phone, sos_type: 0, device_id: deviceId(), device_hints: deviceHints() };
  if (fix) Object.assign(body, { initial_latitude: fix.latitude, initial_longitude: fix.longitude, accuracy_m: fix.accuracy_m });
  else {
    const known = lastFix();
    if (known) body.last_known = known;
  }
  const pin = $("pin").value.trim();
  const duress = $("duress-pin").value.trim();
  if (pin) Object.assign(body, { cancel_pin: pin, duress_pin: duress });
  // Only a salted digest of the duress PIN stays on the phone: enough to know, at cancel time, to keep
  // sharing her position quietly.
  const duressDigest = duress ? await pinDigest(key, duress) : null;
  // Queued first, so that nothing is lost if the page dies now; sent at once when the network allows.
  await queue.put({ key, body, queued_at: new Date().toISOString(), duress_digest: duressDigest, language: config.language });
  $("pin").value = "";
  $("duress-pin").value = "";
  await deliver();
}

async function deliver() {
  clearTimeout(deliveryTimer);
  // One delivery at a time; a call meanwhile (a press queued, the network back) makes it look again.
  if (delivering) {
    deliverAgain = true;
    return;
  }
  delivering = true;
  try {
    do {
      deliverAgain = false;
      for (const item of await queue.all()) await deliverOne(item);
    } while (deliverAgain && page.dataset.state !== "queued");
  } finally {
    delivering = false;
  }
}

async function deliverOne(item) {
  let answer = item.answer; // sent already by the service worker
  if (!answer) {
    try {
      answer = await queue.send(item, CREATE_URL);
    } catch (error) {
      if (error && error.status === 429) return waitForCeiling(error.retryAfter);
      if (error && error.status === 400 && !item.minimal) {
        // Something optional was refused (a hint, a cached position, a PIN): the SOS goes out without it.
        await queue.remove(item.key);
        const { name, phone, sos_type: sosType, initial_latitude: lat, initial_longitude: lng } = item.body;
        const minimal = { name, sos_type: sosType, phone: /^[0-9+ ()-]{0,32}$/.test(phone || "") ? phone : "" };
        if (lat !== undefined) Object.assign(minimal, { initial_latitude: lat, initial_longitude: lng });
        const retry = { key: `${item.key}-m`, body: minimal, queued_at: item.queued_at, minimal: true };
        await queue.put(retry);
        return deliverOne(retry);
      }
      if (error && error.status >= 400 && error.status < 500) {
        // Refused even in its plainest form: the press must not stay stuck in the queue.
        await queue.remove(item.key);
        setState("idle");
        showError(fmt(gettext("Your SOS was not accepted (%(reason)s). Call %(number)s now."), {
          reason: (error.body && error.body.error) || error.status, number: config.emergencyNumber }));
        return;
      }
      return waitForNetwork();
    }
  }
  await queue.remove(item.key);
  retryDelay = RETRY_MIN_MS;
  adopt(answer, item);
}

function waitForNetwork() {
  setState("queued");
  $("queued-text").textContent = fmt(gettext("Queued: will be sent when you are back online. Call %(number)s now."), { number: config.emergencyNumber });
  navigator.serviceWorker?.ready.then((registration) => registration.sync?.register("sos-outbox")).catch(() => {});
  scheduleDelivery(retryDelay);
  retryDelay = Math.min(retryDelay * 2, RETRY_MAX_MS);
}

function waitForCeiling(retryAfterSeconds) {
  // Only past a ceiling far above human rates: the call and SMS buttons are her way now.
  setState("queued");
  $("queued-text").textContent = fmt(gettext("The SOS service is overloaded right now. Call or text %(number)s now; we keep trying to send your SOS."),
    { number: config.emergencyNumber });
  scheduleDelivery(Math.max(retryAfterSeconds * 1000, RETRY_MAX_MS));
}

function scheduleDelivery(delay) {
  clearTimeout(deliveryTimer);
  deliveryTimer = setTimeout(deliver, delay);
}

function adopt(answer, { key, body, duress_digest: duressDigest }) {
  // The server raises the SOS without an optional detail it cannot take, and names it in `dropped`:
  // a dropped PIN must not be believed set, or a later "duress" cancel would be a real one.
  const dropped = (answer && answer.dropped) || {};
  const pending = body.initial_latitude === undefined || "initial_latitude" in dropped;
  const hasPin = Boolean(body.cancel_pin) && !("cancel_pin" in dropped);
  const keepsDuress = hasPin && !("duress_pin" in dropped);
  remember({ sos_id: answer.sos_id, room_id: answer.room_id, access_token: answer.access_token,
    location_pending: pending, has_pin: hasPin, key, duress_digest: keepsDuress ? duressDigest || null : null });
  lastPointAt = pending ? 0 : Date.now();
  follow({ status: "active", assignments: [], location_pending: pending });
  if (body.cancel_pin && !keepsDuress) {
    showError(hasPin ? gettext("Your SOS is raised, but the duress PIN could not be saved: only your cancel PIN works.")
      : gettext("Your SOS is raised, but your PIN could not be saved: set one again below."));
  }
}

// While the alert is open: position, live status --------------------------------------------

function follow(sos) {
  if (current && sos.location_pending === false && current.location_pending) remember({ ...current, location_pending: false });
  render(sos);
  if (!OPEN.has(sos.status)) return;
  startTracking();
  if (!realtime) connect();
}

function startTracking() {
  if (watchId !== null || !navigator.geolocation) {
    if (!navigator.geolocation) showLocation(gettext("This browser cannot share your location. Your SOS was sent without it: tell the police where you are if you can."));
    return;
  }
  showLocation(current.location_pending
    ? gettext("Your SOS was sent without your location. We keep trying to find it.")
    : gettext("Sharing your location with the police."));
  watchId = navigator.geolocation.watchPosition((position) => queuePoint(fixFrom(position)), () => {
    showLocation(current && current.location_pending
      ? gettext("Your SOS was sent without your location. We keep trying to find it; tell the police where you are if you can.")
      : gettext("Your location is not available right now; the police see your last known place."));
  }, { enableHighAccuracy: true, maximumAge: 5000 });
  // Some browsers never call back again once a watch has failed: ask again while the location is pending.
  if (current.location_pending) {
    locationRetry = setInterval(retryLocation, LOCATION_RETRY_MS);
    navigator.permissions?.query({ name: "geolocation" }).then((status) => {
      status.onchange = () => status.state === "granted" && retryLocation();
    }).catch(() => {});
  }
}

function retryLocation() {
  if (!current || !current.location_pending) return;
  navigator.geolocation.getCurrentPosition((position) => queuePoint(fixFrom(position)), () => {},
    { enableHighAccuracy: true, timeout: LOCATION_RETRY_MS, maximumAge: 0 });
}

function showLocation(text) {
  $("location-status").textContent = text;
}

function queuePoint(fix) {
  keepFix(fix);
  pendingPoint = fix;
  const wait = lastPointAt + MIN_POINT_INTERVAL_MS - Date.now();
  if (wait <= 0) sendPoint();
  else if (!pointTimer) pointTimer = setTimeout(sendPoint, wait);
}

async function sendPoint() {
  pointTimer = null;
  if (!pendingPoint || !current) return;
  const point = pendingPoint;
  pendingPoint = null;
  lastPointAt = Date.now();
  try {
    await api.post("/api/update-location/", { sos_request: current.sos_id, ...point });
    if (current.location_pending) {
      remember({ ...current, location_pending: false });
      clearInterval(locationRetry);
    }
    showLocation(fmt(gettext("Location shared at %(time)s."), { time: new Date().toLocaleTimeString() }));
  } catch (error) {
    if (error instanceof ApiError && error.status === 409) refresh(); // closed meanwhile
    else {
      pendingPoint = pendingPoint || point; // the newest unsent point goes with the next try
      showLocation(gettext("Could not share your latest location; retrying."));
      if (!pointTimer) pointTimer = setTimeout(sendPoint, MIN_POINT_INTERVAL_MS);
    }
  }
}

function stopTracking() {
  if (watchId !== null) navigator.geolocation.clearWatch(watchId);
  watchId = null;
  clearInterval(locationRetry);
  clearTimeout(pointTimer);
  pointTimer = null;
}

function connect() {
  realtime = connectRealtime({
    config: config.realtime,
    credentials: { sos_token: current.access_token },
    onConnect(socket) {
      socket.emit("join_sos_room", { room_id: current.room_id });
    },
    onEvent(event, data) {
      if (event === "sos_updated" && data.sos_id === current?.sos_id) applyUpdate(data);
      // Once in the room nothing more is missed; what changed before the join comes from REST.
      else if (event === "room_joined" || event === "resync_required") refresh();
    },
    onStatus(state) {
      $("live-status").textContent = state === "online" ? "" : gettext("Reconnecting for live updates…");
    },
  });
}

function applyUpdate(update) {
  const assignment = update.officer_name ? { officer_name: update.officer_name, unit_number: update.unit_number } : null;
  render({ status: update.status, assignments: assignment ? [assignment] : null });
}

async function refresh() {
  if (!current) return;
  try {
    follow(await api.get(`/api/sos/${current.sos_id}/`));
  } catch (error) {
    // The alert is gone or the token no longer fits it: start over rather than show a stale alert.
    if (error instanceof ApiError && (error.status === 403 || error.status === 404)) reset();
    else $("live-status").textContent = gettext("Cannot reach the server right now; retrying…");
  }
}

function statusText(status) {
  return {
    active: gettext("Sent. Waiting for the police to respond."),
    acknowledged: gettext("The police have seen your SOS."),
    dispatched: gettext("Help is on the way."),
    on_scene: gettext("The police have arrived."),
    resolved: gettext("The police have closed your SOS. Stay safe."),
    cancelled: gettext("You cancelled your SOS."),
  }[status] || status;
}

function render({ status, assignments, has_cancel_pin: hasPin }) {
  if (!OPEN.has(status)) {
    close(statusText(status));
    return;
  }
  if (hasPin !== undefined && current && current.has_pin !== hasPin) remember({ ...current, has_pin: hasPin });
  $("pin-later").hidden = !current || current.has_pin;
  if (page.dataset.state !== "cancelling") setState("active");
  $("status").textContent = statusText(status);
  $("status").dataset.status = status;
  const latest = assignments && assignments[assignments.length - 1];
  if (latest) {
    $("assignment").textContent = fmt(gettext("Officer %(officer)s (unit %(unit)s) is assigned to you."),
      { officer: latest.officer_name, unit: latest.unit_number });
    $("assignment").hidden = false;
  }
}

function close(text) {
  stopTracking();
  realtime?.socket.disconnect();
  realtime = null;
  remember(null);
  $("closed-text").textContent = text;
  setState("closed");
}

// Cancelling: asks for confirmation, and the PIN when one is set ----------------------------------

function askToCancel() {
  showError("");
  $("cancel-pin").value = "";
  $("cancel-pin-field").hidden = !current.has_pin;
  setState("cancelling");
  if (current.has_pin) $("cancel-pin").focus();
}

async function pinDigest(salt, pin) {
  if (!crypto.subtle) return null; // insecure contexts have no WebCrypto: no quiet sharing there
  const bytes = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`${salt}:${pin}`));
  return [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

// Forced to cancel with the duress PIN: the page looks cancelled like any other, but her position
// keeps going to the police (the SOS is still open on the server) until the page is closed.
function keepSharingQuietly(alert) {
  if (!navigator.geolocation) return;
  const quiet = apiClient({ "X-SOS-Token": alert.access_token });
  let sentAt = 0;
  let newest = null;
  let timer = null;
  const send = () => {
    timer = null;
    sentAt = Date.now();
    quiet.post("/api/update-location/", { sos_request: alert.sos_id, ...newest }).catch(() => {});
  };
  navigator.geolocation.watchPosition((position) => {
    // The newest fix goes out, at most one every few seconds (as while the SOS was shown).
    newest = fixFrom(position);
    const wait = sentAt + MIN_POINT_INTERVAL_MS - Date.now();
    if (wait <= 0) send();
    else if (!timer) timer = setTimeout(send, wait);
  }, () => {}, { enableHighAccuracy: true, maximumAge: 5000 });
}

async function confirmCancel() {
  $("confirm-cancel").disabled = true;
  try {
    const pin = $("cancel-pin").value.trim();
    const answer = await api.post(`/api/cancel-sos/${current.sos_id}/`, { note: "Cancelled from the SOS page", pin });
    const coerced = Boolean(pin && current.duress_digest && (await pinDigest(current.key, pin)) === current.duress_digest);
    const alert = current;
    render({ status: answer.sos.status });
    if (coerced) keepSharingQuietly(alert);
  } catch (error) {
    if (error instanceof ApiError && error.code === "wrong_pin") showError(gettext("Wrong PIN. Your SOS is still active."));
    else if (error instanceof ApiError && error.code === "pin_locked") showError(fmt(gettext("Too many wrong PINs: your SOS stays active. Call %(number)s to tell the police you are safe."), { number: config.emergencyNumber }));
    else if (error instanceof ApiError && error.status === 409) refresh();
    else showError(gettext("Could not cancel. Check your connection and try again."));
  } finally {
    $("confirm-cancel").disabled = false;
  }
}

// A PIN set while the SOS is already raised.
async function savePin() {
  const pin = $("later-pin").value.trim();
  const duress = $("later-duress-pin").value.trim();
  if (!validPins(pin, duress)) return;
  $("save-pin").disabled = true;
  try {
    await api.post(`/api/sos/${current.sos_id}/pin/`, { pin, duress_pin: duress });
    const salt = current.key || String(current.sos_id);
    remember({ ...current, key: salt, has_pin: true, duress_digest: duress ? await pinDigest(salt, duress) : null });
    $("later-pin").value = "";
    $("later-duress-pin").value = "";
    $("pin-later").hidden = true;
    showError("");
    $("pin-saved").hidden = false;
  } catch {
    showError(gettext("Could not save the PIN. Try again."));
  } finally {
    $("save-pin").disabled = false;
  }
}

function reset() {
  close("");
  setState("idle");
}

// Start ---------------------------------------------------------------------------------------

function chooseLanguage(language) {
  document.cookie = `nk_lang=${language}; path=/; max-age=31536000; samesite=lax`;
  const url = new URL(location.href);
  url.searchParams.set("lang", language);
  location.assign(url);
}

$("sos-button").addEventListener("click", startCountdown);
$("abort-button").addEventListener("click", abortCountdown);
$("cancel-button").addEventListener("click", askToCancel);
$("confirm-cancel").addEventListener("click", confirmCancel);
$("save-pin").addEventListener("click", savePin);
$("keep-sos").addEventListener("click", () => {
  showError("");
  setState("active");
});
$("new-button").addEventListener("click", () => setState("idle"));
$("language").addEventListener("change", (e) => chooseLanguage(e.target.value));
window.addEventListener("online", () => deliver());

const me = JSON.parse(localStorage.getItem("naarikavach.me") || "{}");
$("name").value = me.name || "";
$("phone").value = me.phone || "";
updateSmsLink(lastFix());
$("insecure").hidden = window.isSecureContext;

if ("serviceWorker" in navigator && window.isSecureContext) {
  navigator.serviceWorker.register(config.serviceWorker).catch(() => {});
  navigator.serviceWorker.addEventListener("message", (event) => event.data?.type === "sos-sent" && deliver());
}

const saved = remembered();
if (saved) {
  remember(saved);
  setState("active");
  refresh();
} else {
  setState("idle");
}
// An SOS queued before the page was closed (or reloaded offline) goes out now.
deliver().finally(() => {
  document.body.dataset.ready = "true";
});
