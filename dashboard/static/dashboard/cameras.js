// The camera list: health, last heartbeat (ticking), figures, watched SOS, and a snapshot on request.
// A snapshot cannot come from the worker directly (its operator port is its own machine's): the page asks the
// platform, which tells the worker in its next heartbeat answer; the page polls until the frame is there or
// the request expires.

import { apiClient } from "./api.js";
import { ago, clock, h } from "./dom.js";
import { connectRealtime, joinRooms } from "./realtime.js";
import { fmt, gettext } from "./words.js";

const config = JSON.parse(document.getElementById("cameras-config").textContent);
const api = apiClient({ Authorization: `Token ${config.token}` });
const $ = (id) => document.getElementById(id);
const cameras = new Map(); // camera_id -> the API's camera
const POLL_MS = 1000;
// Health as the API names it, in the page's language (the class names keep the API's words).
const HEALTH = { ok: gettext("ok"), reconnecting: gettext("reconnecting"), offline: gettext("offline"), unknown: gettext("unknown") };

function showError(message) {
  $("error-banner").textContent = message;
  $("error-banner").hidden = !message;
}

function figure(value, digits = 0) {
  return value === null || value === undefined ? "–" : Number(value).toFixed(digits);
}

function row(camera) {
  const stats = camera.stats || {};
  return h("tr", { dataset: { cameraId: camera.camera_id }, class: `camera health-${camera.health}` },
    h("td", {}, h("strong", {}, camera.name), h("div", { class: "muted" }, camera.camera_id)),
    h("td", {}, h("span", { class: `health health-${camera.health}` }, HEALTH[camera.health] || camera.health)),
    h("td", {}, camera.last_heartbeat_at
      ? h("time", { class: "heartbeat", datetime: camera.last_heartbeat_at, title: clock(camera.last_heartbeat_at) },
        ago(camera.last_heartbeat_at))
      : h("span", { class: "muted" }, gettext("never"))),
    h("td", { class: "number fps" }, figure(stats.fps, 1)),
    h("td", { class: "number dropped" }, figure(stats.dropped_frames)),
    h("td", { class: "open-sos" }, camera.open_sos.length ? camera.open_sos.map((id) => `#${id}`).join(", ") : "–"),
    h("td", {}, h("button", {
      type: "button", class: "snapshot", disabled: !camera.enabled,
      onclick: () => requestSnapshot(camera.camera_id),
    }, gettext("Snapshot"))),
  );
}

function render() {
  const body = $("camera-rows");
  // An open snapshot stays under its camera's row across refreshes.
  const open = new Map([...body.querySelectorAll("tr.snapshot-row")].map((tr) => [tr.dataset.cameraId, tr]));
  const rows = [];
  for (const camera of cameras.values()) {
    rows.push(row(camera));
    if (open.has(camera.camera_id)) rows.push(open.get(camera.camera_id));
  }
  body.replaceChildren(...(rows.length ? rows : [h("tr", { class: "empty" }, h("td", { colspan: 7 }, gettext("No cameras registered.")))]));
}

async function load() {
  try {
    const list = await api.all("/api/cameras/");
    cameras.clear();
    for (const camera of list) cameras.set(camera.camera_id, camera);
    render();
    showError("");
  } catch (error) {
    showError(fmt(gettext("Could not load the cameras: %(error)s"), { error: error.message }));
  } finally {
    document.body.dataset.ready = "true";
  }
}

function tick() {
  for (const el of document.querySelectorAll("time.heartbeat[datetime]")) el.textContent = ago(el.getAttribute("datetime"));
}

// Snapshots ------------------------------------------------------------------------------------------

function snapshotRow(cameraId) {
  let tr = document.querySelector(`tr.snapshot-row[data-camera-id="${CSS.escape(cameraId)}"]`);
  if (!tr) {
    tr = h("tr", { class: "snapshot-row", dataset: { cameraId } }, h("td", { colspan: 7 }));
    const cameraRow = document.querySelector(`tr.camera[data-camera-id="${CSS.escape(cameraId)}"]`);
    cameraRow.after(tr);
  }
  return tr.firstChild;
}

function setSnapshotStatus(cell, state, text) {
  cell.replaceChildren(h("span", { class: "snapshot-status", dataset: { state } }, text));
}

const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function requestSnapshot(cameraId) {
  const cell = snapshotRow(cameraId);
  setSnapshotStatus(cell, "pending", gettext("Asking the camera's worker…"));
  try {
    let snapshot = await api.post(`/api/cameras/${encodeURIComponent(cameraId)}/snapshot/`);
    // The server says how long the worker has; a little more for the last upload to land.
    const deadline = new Date(snapshot.expires_at).getTime() + 2000;
    while (snapshot.status === "pending" && Date.now() < deadline) {
      await wait(POLL_MS);
      snapshot = await api.get(`/api/cameras/snapshots/${snapshot.snapshot_id}/`);
    }
    if (snapshot.status !== "ready") {
      setSnapshotStatus(cell, "failed", gettext("The camera did not send a picture in time. Is it online?"));
      return;
    }
    const url = await api.blobUrl(snapshot.image);
    // A frame without its capture time (the worker did not say) reads "Latest frame, faces blurred", not ", ,".
    const seen = snapshot.captured_at ? fmt(gettext("seen %(time)s"), { time: clock(snapshot.captured_at) }) : "";
    const blurred = fmt(gettext("faces blurred (%(count)s found)"), { count: snapshot.faces_found });
    const what = [gettext("Latest frame"), seen, blurred].filter(Boolean).join(", ");
    cell.replaceChildren(
      h("span", { class: "snapshot-status", dataset: { state: "ready" } }, `${what} · SHA-256 ${snapshot.sha256.slice(0, 12)}…`),
      h("img", { src: url, alt: fmt(gettext("Latest frame of camera %(camera)s"), { camera: cameraId }), dataset: { snapshotId: snapshot.snapshot_id } }),
    );
  } catch (error) {
    setSnapshotStatus(cell, "failed", fmt(gettext("Snapshot failed: %(error)s"), { error: error.message }));
  }
}

// Live updates -----------------------------------------------------------------------------------------

const handlers = {
  camera_health(data) {
    const camera = cameras.get(data.camera_id);
    if (!camera) return load();
    Object.assign(camera, {
      health: data.health, reported_state: data.reported_state, last_heartbeat_at: data.last_heartbeat_at,
      offline_since: data.offline_since,
    });
    render();
  },
  sos_cameras_changed: () => load(),
};

connectRealtime({
  config: config.realtime,
  credentials: { token: config.token },
  onConnect(socket) {
    joinRooms(socket, [{ type: "incidents_channel" }, { type: "sos_channel" }]);
  },
  onEvent(event, data) {
    if (event === "rooms_joined") load(); // after the joins, so no change falls between the two
    else if (handlers[event]) handlers[event](data);
  },
  onStatus(status) {
    $("connection").dataset.state = status;
    $("connection").textContent = status === "online" ? gettext("Live") : status === "refused" ? gettext("Not live") : gettext("Reconnecting…");
  },
});

load();
setInterval(load, config.refreshSeconds * 1000); // the figures (fps, dropped) come with heartbeats, not events
setInterval(tick, 1000);
window.naarikavach = { cameras };
