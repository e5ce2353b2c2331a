// The citizen SOS page: countdown, raise the alert, stream the phone's position, show the police's response.

import { apiClient, ApiError } from "./api.js";
import { connectRealtime } from "./realtime.js";

const config = JSON.parse(document.getElementById("sos-config").textContent);
const STORAGE_KEY = "naarikavach.sos";
const COUNTDOWN_SECONDS = 3;
// The API accepts far more, but a point every few seconds is plenty for a map and spares the battery.
const MIN_POINT_INTERVAL_MS = 4000;
const OPEN = new Set(config.statuses.sos_open); // from the server: the models' one rule

const $ = (id) => document.getElementById(id);
const page = document.querySelector("main.citizen");

let current = null; // {sos_id, room_id, access_token}, also in localStorage so a reload keeps the alert
let api = null;
let realtime = null;
let watchId = null;
let countdownTimer = null;
let lastPointAt = 0;
let pendingPoint = null;
let pointTimer = null;

function setState(state) {
  page.dataset.state = state;
}

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = !message;
}

function remember(alert) {
  current = alert;
  if (alert) localStorage.setItem(STORAGE_KEY, JSON.stringify(alert));
  else localStorage.removeItem(STORAGE_KEY);
  api = alert ? apiClient({ "X-SOS-Token": alert.access_token }) : null;
}

function remembered() {
  try {
    const alert = JSON.parse(localStorage.getItem(STORAGE_KEY));
    return alert && alert.sos_id && alert.access_token ? alert : null;
  } catch {
    return null;
  }
}

// Countdown -----------------------------------------------------------------------------------

function startCountdown() {
  showError("");
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

function abortCountdown() {
  clearInterval(countdownTimer);
  setState("idle");
}

// Raising the alert ----------------------------------------------------------------------------

function currentPosition() {
  return new Promise((resolve, reject) => {
    if (!navigator.geolocation) return reject(new Error("This browser cannot share its location."));
    navigator.geolocation.getCurrentPosition(resolve, reject, { enableHighAccuracy: true, timeout: 15000, maximumAge: 30000 });
  });
}

async function raise() {
  setState("sending");
  let position;
  try {
    position = await currentPosition();
  } catch {
    setState("idle");
    showError("Your SOS was not sent: the police need your location. Allow location access and press SOS again, or call 112.");
    return;
  }
  localStorage.setItem("naarikavach.me", JSON.stringify({ name: $("name").value, phone: $("phone").value }));
  try {
    const created = await apiClient({}).post("/api/create-sos/", {
      name: $("name").value.trim() || "Anonymous",
      phone: $("phone").value.trim(),
      sos_type: 0,
      initial_latitude: position.coords.latitude,
      initial_longitude: position.coords.longitude,
      accuracy_m: position.coords.accuracy ?? null,
    });
    remember({ sos_id: created.sos_id, room_id: created.room_id, access_token: created.access_token });
    lastPointAt = Date.now();
    follow({ status: "active", assignments: [] });
  } catch (error) {
    setState("idle");
    showError(`Your SOS was not sent (${error.message}). Try again, or call 112.`);
  }
}

// While the alert is open: position, live status --------------------------------------------

function follow(sos) {
  render(sos);
  if (!OPEN.has(sos.status)) return;
  startTracking();
  if (!realtime) connect();
}

function startTracking() {
  if (watchId !== null || !navigator.geolocation) return;
  $("location-status").textContent = "Sharing your location with the police.";
  watchId = navigator.geolocation.watchPosition(queuePoint, () => {
    $("location-status").textContent = "Your location is not available right now; the police see your last known place.";
  }, { enableHighAccuracy: true, maximumAge: 5000 });
}

function queuePoint(position) {
  pendingPoint = {
    latitude: position.coords.latitude,
    longitude: position.coords.longitude,
    accuracy_m: position.coords.accuracy ?? null,
    recorded_at: new Date(position.timestamp).toISOString(),
  };
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
    $("location-status").textContent = `Location shared at ${new Date().toLocaleTimeString()}.`;
  } catch (error) {
    if (error instanceof ApiError && error.status === 409) refresh(); // closed meanwhile
    else $("location-status").textContent = "Could not share your latest location; retrying with the next one.";
  }
}

function stopTracking() {
  if (watchId !== null) navigator.geolocation.clearWatch(watchId);
  watchId = null;
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
      $("live-status").textContent = state === "online" ? "" : "Reconnecting for live updates…";
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
    else $("live-status").textContent = "Cannot reach the server right now; retrying…";
  }
}

const STATUS_TEXT = {
  active: "Sent. Waiting for the police to respond.",
  acknowledged: "The police have seen your SOS.",
  dispatched: "Help is on the way.",
  on_scene: "The police have arrived.",
  resolved: "The police have closed your SOS. Stay safe.",
  cancelled: "You cancelled your SOS.",
};

function render({ status, assignments }) {
  if (!OPEN.has(status)) {
    close(STATUS_TEXT[status] || `Your SOS is ${status}.`);
    return;
  }
  setState("active");
  $("status").textContent = STATUS_TEXT[status] || status;
  $("status").dataset.status = status;
  const latest = assignments && assignments[assignments.length - 1];
  if (latest) {
    $("assignment").textContent = `Officer ${latest.officer_name} (unit ${latest.unit_number}) is assigned to you.`;
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

async function cancel() {
  $("cancel-button").disabled = true;
  try {
    const answer = await api.post(`/api/cancel-sos/${current.sos_id}/`, { note: "Cancelled from the SOS page" });
    render({ status: answer.sos.status });
  } catch (error) {
    if (error instanceof ApiError && error.status === 409) refresh();
    else showError(`Could not cancel (${error.message}). Try again.`);
  } finally {
    $("cancel-button").disabled = false;
  }
}

function reset() {
  close("");
  setState("idle");
}

// Start ---------------------------------------------------------------------------------------

$("sos-button").addEventListener("click", startCountdown);
$("abort-button").addEventListener("click", abortCountdown);
$("cancel-button").addEventListener("click", cancel);
$("new-button").addEventListener("click", () => setState("idle"));

const me = JSON.parse(localStorage.getItem("naarikavach.me") || "{}");
$("name").value = me.name || "";
$("phone").value = me.phone || "";

const saved = remembered();
if (saved) {
  remember(saved);
  setState("active");
  refresh();
} else {
  setState("idle");
}
document.body.dataset.ready = "true";
