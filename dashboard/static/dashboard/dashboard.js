// The police dashboard: REST snapshot, then live Socket.IO events, drawn on the map, the lists and the detail panel.

import { apiClient } from "./api.js";
import { beep, enableSound, soundBlocked } from "./alarm.js";
import { ago, clock, elapsed, h } from "./dom.js";
import { incidentDetail, sosDetail } from "./detail.js";
import { createMapView } from "./map-view.js";
import { connectRealtime, joinRooms } from "./realtime.js";

const config = JSON.parse(document.getElementById("dashboard-config").textContent);
const api = apiClient({ Authorization: `Token ${config.token}` });
const $ = (id) => document.getElementById(id);

// Open statuses come from the server (the models' one rule), most urgent first.
const OPEN_SOS = config.statuses.sos_open;
const SOS_URGENCY = Object.fromEntries(OPEN_SOS.map((status, rank) => [status, rank]));
const OPEN_INCIDENTS = config.statuses.incident_open;
const PRIORITY_URGENCY = { Critical: 0, High: 1, Medium: 2, Low: 3 };
const INCIDENT_URGENCY = { CREATED: 0, ACKNOWLEDGED: 1, ASSIGNED: 2, IN_PROGRESS: 2 };

// Closed SOS stay listed this long ("cancelled by the citizen at 21:04"): a cancel never just vanishes.
const RECENTLY_CLOSED_MS = 2 * 3600 * 1000;

const state = {
  sos: new Map(), // id → {id, name, status, sos_type, latitude, longitude, created_at, trail: [[lat, lng]], ...}
  closed: new Map(), // recently closed SOS, id → sos (with closed_at and how it closed)
  floodGroups: new Set(), // flood sources already announced once
  incidents: new Map(), // incident id (a UUID) → incident, its place taken from its beacon
  units: new Map(), // unit_number → unit
  selected: null, // {kind, id}
  fresh: new Set(), // "sos:12", "incident:3": rows highlighted until looked at
  ready: false, // the first REST snapshot is in
  loading: 0, // snapshots in progress; events wait in `early` until they are done
};
const early = [];

const mapView = createMapView($("map"), config.map, select);

// Loading ---------------------------------------------------------------------------------------

function sosFromApi(raw, trail) {
  return { ...raw, id: raw.sos_id ?? raw.id, trail: trail ?? state.sos.get(raw.sos_id ?? raw.id)?.trail ?? [] };
}

function trailOf(detail) {
  return [...detail.locations]
    .sort((a, b) => new Date(a.recorded_at) - new Date(b.recorded_at))
    .map((p) => [p.latitude, p.longitude]);
}

// The REST shape and the event shape (incident_id, no created_at) become one.
function incidentFromApi(raw) {
  const beacon = raw.beacon || {};
  return {
    ...raw,
    id: raw.incident_id || raw.id,
    created_at: raw.created_at || raw.first_signal_at,
    latitude: beacon.latitude,
    longitude: beacon.longitude,
    label: `${raw.kind} at ${beacon.name || beacon.beacon_id}`,
  };
}

const cameraCoverage = new Map(); // camera id → coverage polygon, from the camera list

async function loadAll() {
  // One failing list must not blank the others: an SOS is still worth showing without incidents.
  const failures = [];
  const fetchList = (label, path, params) => api.all(path, params).catch((error) => {
    failures.push(`${label}: ${error.message}`);
    return null;
  });
  const [sosList, units, incidents, board, closed, cameras] = await Promise.all([
    fetchList("SOS alerts", "/api/sos/", { status: OPEN_SOS.join(",") }),
    fetchList("units", "/api/units/"),
    fetchList("incidents", "/api/incidents/", { status: OPEN_INCIDENTS.join(",") }),
    api.get("/api/escalations/").catch(() => null),
    // The newest page is enough: only the last two hours are shown.
    api.get("/api/sos/", { status: "cancelled,resolved" }).then((page) => page.results).catch(() => null),
    fetchList("cameras", "/api/cameras/"),
  ]);
  if (closed) state.closed = new Map(closed.filter(recentlyClosed).map((s) => [s.sos_id, sosFromApi(s, [])]));
  for (const camera of cameras || []) {
    cameraCoverage.set(camera.camera_id, camera.coverage);
    mapView.showCamera(camera);
  }
  showError(failures.length ? `Could not load ${failures.join("; ")}` : "");
  if (sosList) await loadSOS(sosList);
  if (incidents) {
    for (const id of state.incidents.keys()) mapView.remove("incident", id);
    state.incidents = new Map(incidents.map((i) => [i.id, incidentFromApi(i)]));
  }
  if (units) state.units = new Map(units.map((u) => [u.unit_number, u]));
  if (board) applyBoard(board);
  renderAll();
}

// Escalation levels and time in status (docs/response.md), from the board and then from events.
function applyBoard(board) {
  for (const row of board.sos) Object.assign(state.sos.get(row.sos_id) || {}, escalationOf(row));
  for (const row of board.incidents) Object.assign(state.incidents.get(row.incident_id) || {}, escalationOf(row));
}

function escalationOf(row) {
  return { level: row.level, level_label: row.label, status_since: row.status_since };
}

async function loadSOS(sosList) {
  const details = await Promise.all(sosList.map((s) => api.get(`/api/sos/${s.sos_id}/`).catch(() => null)));

  for (const id of state.sos.keys()) mapView.remove("sos", id);
  state.sos = new Map(sosList.map((s, i) => [s.sos_id, sosFromApi(s, details[i] ? trailOf(details[i]) : [])]));
}

// Rendering -------------------------------------------------------------------------------------

function renderAll() {
  for (const sos of state.sos.values()) mapView.showSOS(sos);
  for (const incident of state.incidents.values()) mapView.showIncident(incident);
  for (const unit of state.units.values()) mapView.showUnit(unit);
  renderLists();
}

function row(kind, id, { dotClass, title, badge, badgeClass, sub, item }) {
  const key = `${kind}:${id}`;
  const selected = state.selected && `${state.selected.kind}:${state.selected.id}` === key;
  const level = item?.level || 0;
  return h("li", {
    class: [selected && "selected", state.fresh.has(key) && "fresh", level && `escalated escalation-${Math.min(level, 3)}`]
      .filter(Boolean).join(" ") || null,
    dataset: { kind, id: String(id), level: String(level) }, tabindex: 0,
    onclick: () => select(kind, id),
    onkeydown: (e) => e.key === "Enter" && select(kind, id),
  }, h("span", { class: `dot ${dotClass}` }), h("span", { class: "title" }, title),
  level ? h("span", { class: `badge level level-${Math.min(level, 3)}`, title: item.level_label || "" }, `L${level}`) : null,
  h("span", { class: `badge ${badgeClass}` }, badge), h("span", { class: "sub" }, sub,
    item?.status_since ? [" · ", h("span", { class: "in-status", dataset: { since: item.status_since } },
      `${elapsed(item.status_since)} in status`)] : null));
}

// Time in status counts live without redrawing the lists (a redraw under the pointer loses clicks).
function tickTimes() {
  for (const el of document.querySelectorAll(".in-status[data-since]")) {
    el.textContent = `${elapsed(el.dataset.since)} in status`;
  }
}

function fill(listId, countId, items, emptyText) {
  $(countId).textContent = items.length;
  $(listId).replaceChildren(...(items.length ? items : [h("li", { class: "empty" }, emptyText)]));
}

function byUrgency(rank) {
  // Escalated first, then most urgent; among equals the one waiting longest.
  return (a, b) => (b.level || 0) - (a.level || 0) || rank(a) - rank(b)
    || new Date(a.created_at) - new Date(b.created_at);
}

function recentlyClosed(sos) {
  return sos.closed_at && Date.now() - new Date(sos.closed_at).getTime() < RECENTLY_CLOSED_MS;
}

// Cancelled under duress first, then alerts without a location yet (the dispatcher must phone them),
// then by status and type. Suspected floods are grouped below, never mixed in.
function sosRank(s) {
  if (s.duress_at) return -2;
  if (s.location_pending) return -1;
  return SOS_URGENCY[s.status] * 2 + (s.sos_type ?? 0);
}

function sosRow(s) {
  const flags = [s.duress_at && "cancelled under duress", s.location_pending && "location pending"].filter(Boolean);
  const item = row("sos", s.id, {
    dotClass: `status-${s.status}`, title: `#${s.id} ${s.name}`, badge: s.status, badgeClass: `status-${s.status}`,
    sub: `${s.sos_type === 1 ? "Alert" : "Emergency"} · raised ${ago(s.created_at)}${s.phone ? ` · ${s.phone}` : ""}`,
    item: s,
  });
  if (flags.length) item.prepend(...flags.map((f) => h("span", { class: `flag flag-${f.replace(/ /g, "-")}` }, f.toUpperCase())));
  return item;
}

function floodGroupRow(source, members) {
  return h("li", { class: "flood-group", dataset: { source } },
    h("details", {},
      h("summary", {}, `${members.length} unverified SOS from one source`),
      h("ul", { class: "list" }, members.map(sosRow))));
}

function closedRow(s) {
  const how = s.status === "cancelled" ? "cancelled by the citizen" : "resolved";
  return row("sos", s.id, {
    dotClass: `status-${s.status}`, title: `#${s.id} ${s.name}`, badge: s.status, badgeClass: `status-${s.status}`,
    sub: `${how} at ${clock(s.closed_at).slice(0, 5)}`,
  });
}

function renderLists() {
  const all = [...state.sos.values()];
  const sos = all.filter((s) => !s.suspected_flood || s.duress_at).sort(byUrgency(sosRank));
  const groups = new Map();
  for (const s of all.filter((s) => s.suspected_flood && !s.duress_at)) groups.set(s.flood_source, [...(groups.get(s.flood_source) || []), s]);
  fill("sos-list", "sos-count", [...sos.map(sosRow), ...[...groups].map(([source, members]) => floodGroupRow(source, members))],
    "No open SOS alerts.");
  $("sos-count").textContent = sos.length;

  const closed = [...state.closed.values()].filter(recentlyClosed).sort((a, b) => new Date(b.closed_at) - new Date(a.closed_at));
  fill("closed-list", "closed-count", closed.map(closedRow), "Nothing closed in the last two hours.");

  const incidents = [...state.incidents.values()]
    .sort(byUrgency((i) => INCIDENT_URGENCY[i.status] * 4 + (PRIORITY_URGENCY[i.priority] ?? 3)));
  fill("incident-list", "incident-count", incidents.map((i) => row("incident", i.id, {
    dotClass: "kind-incident", title: i.label, badge: i.priority, badgeClass: `priority-${i.priority.toLowerCase()}`,
    sub: `${i.status.toLowerCase().replace("_", " ")} · ${i.signal_count} signal${i.signal_count === 1 ? "" : "s"} · ${ago(i.created_at)}`, item: i,
  })), "No open incidents.");

  const units = [...state.units.values()];
  fill("unit-list", "unit-count", units.map((u) => row("unit", u.unit_number, {
    dotClass: "kind-unit", title: u.unit_number, badge: u.status, badgeClass: `status-${u.status}`,
    sub: u.last_seen_at ? `seen ${ago(u.last_seen_at)}` : "no position yet",
  })), "No units.");
}

// Selection and the detail panel ----------------------------------------------------------------

async function select(kind, id) {
  state.selected = kind ? { kind, id } : null;
  state.fresh.delete(`${kind}:${id}`);
  updateTitle();
  mapView.select(kind, id);
  renderLists();
  await renderDetail();
}

async function renderDetail() {
  const panel = $("detail");
  const selected = state.selected;
  if (!selected || selected.kind === "unit") {
    panel.hidden = true;
    return;
  }
  try {
    const content = selected.kind === "sos"
      ? sosDetail(await api.get(`/api/sos/${selected.id}/`), { api, units: [...state.units.values()], act, close: () => select(null) })
      : incidentDetail(await api.get(`/api/incidents/${selected.id}/`), { api, units: [...state.units.values()], act, close: () => select(null) });
    // Another row may have been selected while this one loaded.
    if (state.selected !== selected) return;
    const sameItem = panel.dataset.showing === `${selected.kind}:${selected.id}`;
    if (sameItem) keepTyping(panel, content);
    panel.replaceChildren(content);
    panel.dataset.showing = `${selected.kind}:${selected.id}`;
    panel.hidden = false;
  } catch (error) {
    panel.replaceChildren(h("p", { class: "form-error" }, `Could not load details: ${error.message}`));
    panel.hidden = false;
  }
}

// Live updates redraw the panel; what the dispatcher was typing or choosing in it must survive that.
function keepTyping(oldPanel, content) {
  const focused = document.activeElement && oldPanel.contains(document.activeElement) ? document.activeElement.name : null;
  for (const field of oldPanel.querySelectorAll("input[name], select[name]")) {
    const twin = content.querySelector(`[name="${field.name}"]`); // names are unique within a panel
    if (!twin) continue;
    if (field.value && (twin.tagName !== "SELECT" || [...twin.options].some((o) => o.value === field.value))) twin.value = field.value;
    if (field.name === focused) queueMicrotask(() => twin.focus());
  }
}

// Every action is one REST call; its effect comes back to every dashboard through the realtime events.
async function act(path, body) {
  try {
    const answer = await api.post(path, body);
    showError("");
    if (answer && answer.sos) applySOSChange(sosFromApi(answer.sos));
    if (answer && answer.incident) applyIncidentChange(incidentFromApi(answer.incident));
    await renderDetail();
  } catch (error) {
    showError(error.message);
  }
}

// Applying changes ------------------------------------------------------------------------------

function applySOSChange(sos) {
  if (!OPEN_SOS.includes(sos.status)) {
    state.sos.delete(sos.id);
    mapView.remove("sos", sos.id);
    state.closed.set(sos.id, { ...sos, closed_at: sos.closed_at || new Date().toISOString() });
  } else {
    state.sos.set(sos.id, { ...state.sos.get(sos.id), ...sos });
    mapView.showSOS(state.sos.get(sos.id));
  }
  renderLists();
}

function applyIncidentChange(incident) {
  if (!OPEN_INCIDENTS.includes(incident.status)) {
    state.incidents.delete(incident.id);
    mapView.remove("incident", incident.id);
  } else {
    state.incidents.set(incident.id, { ...state.incidents.get(incident.id), ...incident });
    mapView.showIncident(state.incidents.get(incident.id));
  }
  renderLists();
}

function announce(kind, id, text) {
  state.fresh.add(`${kind}:${id}`);
  $("alert-text").textContent = text;
  $("alert-banner").hidden = false;
  $("alert-banner").onclick = (e) => e.target.id !== "alert-dismiss" && select(kind, id);
  // Restart the flashing animation for every new alert.
  $("alert-banner").style.animation = "none";
  void $("alert-banner").offsetWidth;
  $("alert-banner").style.animation = "";
  beep();
  updateTitle();
}

function updateTitle() {
  document.title = `${state.fresh.size ? `(${state.fresh.size}) ` : ""}Dashboard · NaariKavach`;
}

function isSelected(kind, id) {
  return state.selected && state.selected.kind === kind && state.selected.id === id;
}

function moveSOS(sosId, latitude, longitude) {
  const sos = state.sos.get(sosId);
  if (!sos) return;
  sos.location_pending = false;
  sos.latitude = latitude;
  sos.longitude = longitude;
  sos.trail = [...sos.trail, [latitude, longitude]];
  mapView.showSOS(sos);
  if (isSelected("sos", sosId)) renderDetail();
}

function moveUnit(data) {
  const unit = state.units.get(data.unit_number) || { unit_number: data.unit_number, status: "available" };
  Object.assign(unit, { last_latitude: data.latitude, last_longitude: data.longitude, last_seen_at: data.timestamp });
  state.units.set(unit.unit_number, unit);
  mapView.showUnit(unit);
  renderLists();
}

async function refreshUnits() {
  try {
    state.units = new Map((await api.all("/api/units/")).map((u) => [u.unit_number, u]));
    for (const unit of state.units.values()) mapView.showUnit(unit);
    renderLists();
  } catch (error) {
    showError(`Could not refresh units: ${error.message}`);
  }
}

const handlers = {
  new_sos(data) {
    // Already in the snapshot, which is newer than this event: nothing to add.
    if (state.sos.has(data.sos_id)) return;
    applySOSChange(sosFromApi(data, data.latitude == null ? [] : [[data.latitude, data.longitude]]));
    if (data.suspected_flood) {
      // One announcement per source, not one alarm per fake alert.
      if (state.floodGroups.has(data.flood_source)) return;
      state.floodGroups.add(data.flood_source);
      announce("sos", data.sos_id, "Many SOS from one source: grouped as unverified");
      return;
    }
    announce("sos", data.sos_id, `New SOS #${data.sos_id} from ${data.name}${data.location_pending ? " (location pending)" : ""}`);
  },
  sos_updated(data) {
    const sos = state.sos.get(data.sos_id);
    const since = sos && sos.status !== data.status ? data.timestamp : sos?.status_since;
    if (sos && data.action === "located") {
      applySOSChange({ ...sos, location_pending: false, accuracy_m: data.accuracy_m });
      moveSOS(data.sos_id, data.latitude, data.longitude);
    } else if (data.action === "cancelled_under_duress") {
      if (sos) applySOSChange({ ...sos, duress_at: data.duress_at });
      else snapshot();
      announce("sos", data.sos_id, `SOS #${data.sos_id} CANCELLED UNDER DURESS: still open`);
    } else if (sos) applySOSChange({ ...sos, status: data.status, status_since: since });
    // Units change status with assignments and closures; the API knows which units are free again.
    if (["assigned", "resolved", "cancelled"].includes(data.action)) refreshUnits();
    if (isSelected("sos", data.sos_id)) renderDetail();
  },
  // A point of an SOS's trail (the SOS rooms) ...
  location_history: (data) => moveSOS(data.sos_id, data.latitude, data.longitude),
  // ... and the tracking channel, which carries both SOS points and unit positions.
  location_tracking_update(data) {
    if (isUnitPosition(data)) moveUnit(data);
    else if (data.sos_id) moveSOS(data.sos_id, data.latitude, data.longitude);
  },
  // Cameras linked to an SOS, and their pre-roll frames: the open SOS shows them.
  sos_cameras_changed(data) {
    if (isSelected("sos", data.sos_id)) renderDetail();
  },
  sos_camera_evidence(data) {
    if (isSelected("sos", data.sos_id)) renderDetail();
  },
  // A camera went offline, came back or reconnects: recolour it (its coverage is drawn already).
  camera_health(data) {
    const known = cameraCoverage.get(data.camera_id);
    if (known) mapView.showCamera({ ...data, coverage: known });
  },
  incident_created(data) {
    const incident = incidentFromApi(data);
    if (state.incidents.has(incident.id)) return; // in the (newer) snapshot already
    applyIncidentChange(incident);
    announce("incident", incident.id, `New incident: ${incident.label} (${incident.priority})`);
  },
  // Escalation: the row climbs to the top with its level, and the alarm sounds again at every level.
  sos_escalated(data) {
    const sos = state.sos.get(data.sos_id);
    if (!sos) return;
    applySOSChange({ ...sos, level: Math.max(sos.level || 0, data.level), level_label: data.label,
      status_since: data.status_since });
    if (data.realert) announce("sos", data.sos_id, `ESCALATED L${data.level}: SOS #${data.sos_id} ${data.label || ""}`);
  },
  incident_escalated(data) {
    const incident = incidentFromApi(data);
    const known = state.incidents.get(incident.id);
    if (!known) return;
    applyIncidentChange({ ...known, ...incident, level: Math.max(known.level || 0, data.level),
      level_label: data.label, status_since: data.status_since });
    if (data.realert) announce("incident", incident.id, `ESCALATED L${data.level}: ${known.label} ${data.label || ""}`);
  },
  incident_updated(data) {
    const incident = incidentFromApi(data);
    const known = state.incidents.get(incident.id);
    const since = known && known.status !== incident.status ? data.timestamp : known?.status_since;
    applyIncidentChange({ ...known, ...incident, status_since: since });
    if (isSelected("incident", incident.id)) renderDetail();
  },
  resync_required: () => snapshot(),
  error: (data) => showError(data.message),
};

function isUnitPosition(data) {
  // The tracking channel carries both a unit's own positions and SOS trail points (sos/services.py).
  return data.kind === "unit";
}

function onEvent(event, data) {
  if (!handlers[event]) return;
  if (!state.ready || state.loading) early.push([event, data]);
  else handlers[event](data);
}

// Connection, banners, sound --------------------------------------------------------------------

function showError(message) {
  $("error-banner").textContent = message;
  $("error-banner").hidden = !message;
}

function setConnection(status, detail) {
  $("connection").dataset.state = status;
  $("connection").textContent = { online: "Live", offline: "Offline", refused: "Refused" }[status];
  $("offline-banner").hidden = status === "online";
  if (status === "refused") showError(`The realtime server refused this page (${detail}). Sign out and in again.`);
}

function updateSoundButton() {
  $("sound").hidden = !soundBlocked();
}

$("sound").addEventListener("click", async () => {
  await enableSound();
  updateSoundButton();
});
// Browsers allow sound only after the user has interacted with the page.
document.addEventListener("pointerdown", () => enableSound().then(updateSoundButton), { once: true });
$("alert-dismiss").addEventListener("click", () => {
  $("alert-banner").hidden = true;
});
document.addEventListener("keydown", (e) => e.key === "Escape" && select(null));
setInterval(renderLists, 30000); // keep the "raised 3m ago" texts honest
setInterval(tickTimes, 1000);

// Every position of the force is the dispatchers' picture; an officer follows their own unit's room
// (docs/security.md, "Officers' scope"). All in one join: one ordered stream to resume from.
const ROOMS = config.user.role === "officer"
  ? [{ type: "sos_channel" }, { type: "unit", unit_number: config.user.unit_number }, { type: "incidents_channel" }]
  : [{ type: "sos_channel" }, { type: "location_tracking_channel" }, { type: "incidents_channel" }];
let joinAwaited = false;
let snapshotAfterJoins = false;

const realtime = connectRealtime({
  config: config.realtime,
  credentials: { token: config.token },
  onConnect(socket, { resumeFrom }) {
    // Without a resume point the server starts us at "now": the REST snapshot is taken after the joins,
    // so no change can fall between the two. With one, the server replays what we missed instead.
    snapshotAfterJoins = resumeFrom === null;
    joinAwaited = true;
    joinRooms(socket, ROOMS);
  },
  onEvent(event, data) {
    if ((event === "rooms_joined" || event === "error") && joinAwaited) {
      joinAwaited = false;
      if (snapshotAfterJoins) {
        snapshotAfterJoins = false;
        snapshot();
      }
    }
    onEvent(event, data);
  },
  onStatus(status, detail) {
    setConnection(status, detail);
    // No realtime server: still show what REST knows, and say that it is not live.
    if (status !== "online" && !state.ready && !state.loading) snapshot();
  },
});

// Snapshots run one after another; events that arrive meanwhile are applied after the snapshot they would race.
let snapshots = Promise.resolve();

function snapshot() {
  state.loading += 1;
  snapshots = snapshots.then(loadAll).catch((error) => showError(error.message)).finally(() => {
    state.loading -= 1;
    const first = !state.ready;
    state.ready = true;
    if (first) mapView.fitAll();
    if (!state.loading) for (const [event, data] of early.splice(0)) handlers[event](data);
    document.body.dataset.ready = "true";
  });
  return snapshots;
}

updateSoundButton();
// A realtime server that accepts the connection but never answers must not keep the page empty.
setTimeout(() => state.ready || state.loading || snapshot(), 4000);
window.naarikavach = { state, realtime };
