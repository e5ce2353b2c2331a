// The dispatcher console: one REST snapshot (the triage queue with trails, units and what closed recently), then
// live Socket.IO events applied one row and one marker at a time; the map, the queue and the detail panel.

import { apiClient } from "./api.js";
import { createAreaDraw, insidePolygon } from "./area-draw.js";
import { askForNotifications, beep, enableSound, mute, muted, notify, soundBlocked, startRepeating, unmute } from "./alarm.js";
import { ago, clockShort, h } from "./dom.js";
import { incidentDetail, sosDetail, trailItem, unitDetail } from "./detail.js";
import { closedSentence, closedTitle, confirmWithNote, openHelp, openHistory, openViewer } from "./dialogs.js";
import { createMapView } from "./map-view.js";
import { createQueue } from "./queue.js";
import { connectRealtime, joinRooms } from "./realtime.js";
import { fmt, gettext, statusWord } from "./words.js";

performance.mark("console-start"); // the bench (bench/bench_dashboard.py) reads these marks
const config = JSON.parse(document.getElementById("dashboard-config").textContent);
const api = apiClient({ Authorization: `Token ${config.token}` });
const $ = (id) => document.getElementById(id);

// Open statuses come from the server (the models' one rule).
const OPEN_SOS = config.statuses.sos_open;
const OPEN_INCIDENTS = config.statuses.incident_open;
// The colour steps of time in status, from the escalation ladders (seconds), so colours match the levels.
const WAIT_STEPS = config.waitSteps || { unacknowledged: [30, 120, 300], acknowledged: [900, 1800, 3600] };
// Closed alerts stay listed this long ("cancelled by the citizen at 21:04"): a cancel never just vanishes.
const RECENTLY_CLOSED_MS = 2 * 3600 * 1000;
const UNIT_TRAIL_POINTS = 50;

const state = {
  closed: new Map(), // key → closed item {kind, id, title, how, note, closed_by, closed_at}
  floodGroups: new Set(), // flood sources already announced once
  units: new Map(), // unit_number → unit (with crew and a short trail of live positions)
  selected: null, // {kind, id}
  following: false, // the selected SOS is kept centred as it moves
  area: null, // the area filter: a radius {centre: [lat, lng], km}, a drawn polygon {points: [[lat, lng], ...]} or null
  arrivals: [], // new alerts since the banner was last dismissed, newest first
  ready: false, // the first REST snapshot is in
  loading: 0, // snapshots in progress; events wait in `early` until they are done
};
const early = [];

const mapView = createMapView($("map"), config.map, (kind, id) => select(kind, id));
mapView.setPanelOpen(() => !$("detail").hidden);
const queue = createQueue($("queue"), {
  onSelect: (kind, id) => select(kind, id),
  onFocusRow: (kind, id, focused) => mapView.label(kind, id, focused),
  waitSteps: WAIT_STEPS,
});
const keyOf = (kind, id) => `${kind}:${id}`;

// Shapes ----------------------------------------------------------------------------------------

// A queue item from the snapshot's SOS (with its level and trail) or from an event's payload.
function sosItem(raw, extra = {}) {
  const id = raw.sos_id ?? raw.id;
  const known = queue.get(keyOf("sos", id)) || {};
  const status = raw.status || known.status || "active";
  return {
    ...known, ...raw, ...extra, key: keyOf("sos", id), kind: "sos", id, status,
    title: `SOS #${id} ${raw.name ?? known.name ?? ""}`.trim(),
    needs_ack: status === "active",
    waiting_since: extra.waiting_since || known.waiting_since || raw.created_at || new Date().toISOString(),
    trail: extra.trail || known.trail || [],
    assignments: extra.assignments || known.assignments || [],
  };
}

// The REST shape and the event shape (incident_id, no created_at) become one.
function incidentItem(raw, extra = {}) {
  const id = raw.incident_id || raw.id;
  const known = queue.get(keyOf("incident", id)) || {};
  const beacon = raw.beacon || known.beacon || {};
  const status = raw.status || known.status;
  return {
    ...known, ...raw, ...extra, key: keyOf("incident", id), kind: "incident", id, status, beacon,
    created_at: raw.created_at || known.created_at || raw.first_signal_at,
    latitude: beacon.latitude, longitude: beacon.longitude,
    label: `${raw.kind || known.kind} · ${beacon.name || beacon.beacon_id}`,
    title: `${raw.kind || known.kind} · ${beacon.name || beacon.beacon_id}`,
    needs_ack: status === "CREATED",
    waiting_since: extra.waiting_since || known.waiting_since || raw.created_at || raw.first_signal_at || new Date().toISOString(),
  };
}

function closedItem(raw) {
  const kind = raw.kind;
  const id = kind === "sos" ? raw.sos.id : raw.incident.id;
  return { key: keyOf(kind, id), kind, id, title: closedTitle(raw), how: raw.how, note: raw.note, closed_by: raw.closed_by,
    closed_at: raw.closed_at, status: kind === "sos" ? raw.sos.status : raw.incident.status };
}

// Loading ---------------------------------------------------------------------------------------

const cameraCoverage = new Map(); // camera id → coverage polygon, from the camera list

async function loadAll() {
  // Two requests: the console's snapshot and the cameras (drawn once; their health comes live).
  const [snap, cameras] = await Promise.all([
    api.get("/api/console/queue/").catch((error) => ({ error })),
    cameraCoverage.size ? Promise.resolve(null) : api.all("/api/cameras/").catch(() => null),
  ]);
  for (const camera of cameras || []) {
    cameraCoverage.set(camera.camera_id, camera.coverage);
    mapView.showCamera(camera);
  }
  performance.mark("queue-fetched");
  if (snap.error) {
    showError(fmt(gettext("Could not load the queue: %(error)s"), { error: snap.error.message }));
    return;
  }
  showError("");
  const seen = new Set();
  for (const entry of snap.items) {
    const extra = { level: entry.level, level_label: entry.level_label, status_since: entry.status_since, waiting_since: entry.waiting_since };
    const item = entry.kind === "sos"
      ? sosItem(entry.sos, { ...extra, trail: entry.trail.map((p) => [p.latitude, p.longitude]), assignments: entry.assignments })
      : incidentItem(entry.incident, extra);
    seen.add(item.key);
    upsert(item, { batch: true });
  }
  queue.reorder();
  mapView.flush();
  updateCounts();
  for (const key of [...queue.items.keys()]) if (!seen.has(key)) removeOpen(key);
  state.units = new Map(snap.units.map((u) => [u.unit_number, { ...u, trail: state.units.get(u.unit_number)?.trail || [] }]));
  renderUnits();
  state.closed = new Map(snap.recently_closed.map((raw) => closedItem(raw)).map((item) => [item.key, item]));
  renderClosed();
  renderFlood();
}

// Rendering -------------------------------------------------------------------------------------

function isFlood(item) {
  return item.kind === "sos" && item.suspected_flood && !item.duress_at;
}

// One alert into the queue (or the unverified group) and onto the map.
function upsert(item, options = {}) {
  if (isFlood(item)) {
    floodItems.set(item.key, item);
    queue.remove(item.key);
  } else {
    floodItems.delete(item.key);
    queue.upsert(item, options);
  }
  if (item.kind === "sos") mapView.showSOS(item, options);
  else mapView.showIncident(item, options);
  if (!options.batch) updateCounts();
}

function removeOpen(key) {
  const item = queue.get(key) || floodItems.get(key);
  queue.remove(key);
  floodItems.delete(key);
  if (item) mapView.remove(item.kind, item.id);
  updateCounts();
}

const floodItems = new Map();

function renderFlood() {
  const groups = new Map();
  for (const item of floodItems.values()) groups.set(item.flood_source, [...(groups.get(item.flood_source) || []), item]);
  $("flood-section").hidden = !groups.size;
  $("flood-list").replaceChildren(...[...groups].map(([source, members]) => h("li", { class: "flood-group", dataset: { source } },
    h("details", {},
      h("summary", {}, fmt(gettext("%(n)s unverified SOS from one source"), { n: members.length })),
      h("ul", { class: "list" }, members.map((m) => h("li", { tabindex: "0", dataset: { kind: "sos", id: String(m.id) },
        onclick: () => select("sos", m.id), onkeydown: (e) => e.key === "Enter" && select("sos", m.id) }, m.title)))))));
}

function updateCounts() {
  $("queue-count").textContent = queue.items.size;
  const waiting = [...queue.items.values()].filter((i) => i.needs_ack).length;
  $("queue-waiting").textContent = waiting ? fmt(gettext("%(n)s unacknowledged"), { n: waiting }) : "";
}

function recentlyClosed(item) {
  return Date.now() - new Date(item.closed_at).getTime() < RECENTLY_CLOSED_MS;
}

function renderClosed() {
  const closed = [...state.closed.values()].filter(recentlyClosed).sort((a, b) => new Date(b.closed_at) - new Date(a.closed_at));
  $("closed-count").textContent = closed.length;
  $("closed-list").replaceChildren(...(closed.length ? closed.map((c) => h("li", {
    tabindex: "0", dataset: { kind: c.kind, id: String(c.id) }, class: `closed-row how-${c.how}`,
    onclick: () => select(c.kind, c.id), onkeydown: (e) => e.key === "Enter" && select(c.kind, c.id),
  }, h("span", { class: `dot status-${String(c.status).toLowerCase()}`, "aria-hidden": "true" }), h("span", { class: "title" }, c.title),
  h("span", { class: "sub" }, `${closedSentence(c)} ${fmt(gettext("at %(time)s"), { time: clockShort(c.closed_at) })}${c.note ? ` · “${c.note}”` : ""}`)))
    : [h("li", { class: "empty" }, gettext("Nothing closed in the last two hours."))]));
}

const unitRows = new Map();

function unitSub(u) {
  return u.last_seen_at ? fmt(gettext("seen %(ago)s"), { ago: ago(u.last_seen_at) }) : gettext("no position yet");
}

function paintUnit(li, u) {
  li.replaceChildren(h("span", { class: `dot unit status-${u.status}`, "aria-hidden": "true" }), h("span", { class: "title" }, u.unit_number),
    h("span", { class: `badge status-${u.status}` }, statusWord(u.status)), h("span", { class: "sub" }, unitSub(u)));
  li.dataset.status = u.status;
}

function renderUnits() {
  const list = $("unit-list");
  const units = [...state.units.values()].sort((a, b) => a.unit_number.localeCompare(b.unit_number));
  $("unit-count").textContent = units.length;
  for (const u of units) {
    let li = unitRows.get(u.unit_number);
    if (!li) {
      li = h("li", { tabindex: "0", dataset: { kind: "unit", id: u.unit_number },
        onclick: () => select("unit", u.unit_number), onkeydown: (e) => e.key === "Enter" && select("unit", u.unit_number) });
      unitRows.set(u.unit_number, li);
    }
    paintUnit(li, u);
    mapView.showUnit(u);
  }
  const wanted = units.map((u) => unitRows.get(u.unit_number));
  if (wanted.some((li, i) => list.children[i] !== li) || list.children.length !== wanted.length) {
    list.replaceChildren(...(wanted.length ? wanted : [h("li", { class: "empty" }, gettext("No units."))]));
  }
}

// A unit moved or changed status: its own row and marker only.
function patchUnit(u) {
  const li = unitRows.get(u.unit_number);
  if (!li) return renderUnits();
  const sub = li.querySelector(".sub");
  if (li.dataset.status !== u.status || !sub) paintUnit(li, u);
  else if (sub.textContent !== unitSub(u)) sub.textContent = unitSub(u); // mostly "seen 0s ago" again: no relayout
  mapView.showUnit(u);
  if (isSelected("unit", u.unit_number)) mapView.unitTrail(u.trail);
}

// Filters ---------------------------------------------------------------------------------------

// An SOS's type stands in for a priority: an emergency is critical, an alert high.
const SOS_PRIORITY = { 0: "critical", 1: "high" };

// Great-circle distance in km (the area filter's radius is a distance on the ground).
function distanceKm([lat1, lon1], [lat2, lon2]) {
  const rad = Math.PI / 180;
  const a = Math.sin((lat2 - lat1) * rad / 2) ** 2
    + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin((lon2 - lon1) * rad / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.sqrt(a));
}

// The area filter: a radius around the visible map centre, fixed when the radius is chosen (choosing again
// re-centres), so that a new arrival panning the map does not move the area under the dispatcher.
function setArea() {
  areaDraw.cancel();
  const km = Number($("filter-area").value);
  showArea(km ? { centre: mapView.visibleCentre(), km } : null);
}

function showArea(area) {
  state.area = area;
  mapView.showArea(area);
  if (area?.points) $("filter-area").value = "drawn";
  else if (!area) $("filter-area").value = "";
  $("area-clear").hidden = !area;
  applyFilters();
}

// Or an area drawn on the map with the mouse (area-draw.js); the radius stays the keyboard's way.
const areaDraw = createAreaDraw(mapView.map, {
  onDone: (points) => showArea({ points }),
  onEnd: () => {
    $("area-draw").setAttribute("aria-pressed", "false");
    $("area-hint").classList.remove("active");
  },
});

function startDrawing() {
  if (areaDraw.drawing) return areaDraw.cancel();
  $("area-draw").setAttribute("aria-pressed", "true");
  $("area-hint").classList.add("active");
  areaDraw.start();
}

const hasPosition = (item) => item.latitude != null && item.longitude != null;

function inArea(item) {
  if (!state.area) return true;
  // An alert with no position yet (location pending) cannot be said to be outside: it stays in sight.
  if (!hasPosition(item)) return true;
  const at = [item.latitude, item.longitude];
  return state.area.points ? insidePolygon(at, state.area.points) : distanceKm(state.area.centre, at) <= state.area.km;
}

function matchesFilters(item) {
  const kind = $("filter-kind").value;
  const status = $("filter-status").value;
  const priority = $("filter-priority").value;
  const unit = $("filter-unit").value;
  const text = $("search").value.trim().toLowerCase();
  if (kind && item.kind !== kind) return false;
  if (status === "unacknowledged" && !item.needs_ack) return false;
  if (status && status !== "unacknowledged" && String(item.status).toLowerCase() !== status) return false;
  const itemPriority = item.kind === "sos" ? SOS_PRIORITY[item.sos_type ?? 0] : String(item.priority).toLowerCase();
  if (priority && itemPriority !== priority) return false;
  if (unit && !(item.assignments || []).some((a) => a.unit_number === unit)) return false;
  if (!inArea(item)) return false;
  if (text) {
    const haystack = [item.title, item.phone, item.description, item.label, String(item.id)].filter(Boolean).join(" ").toLowerCase();
    if (!haystack.includes(text)) return false;
  }
  return true;
}

// The map shows what the queue shows (an alert not in the queue yet, or no filter: shown).
const FILTER_IDS = ["search", "filter-kind", "filter-status", "filter-priority", "filter-unit"];
function keepOnMap(kind, id) {
  const item = queue.get(keyOf(kind, id));
  return !item || matchesFilters(item);
}

function applyFilters() {
  queue.setFilter(matchesFilters);
  mapView.setFilter(state.area || FILTER_IDS.some((id) => $(id).value) ? keepOnMap : null);
  const shown = queue.visibleRows().length;
  const text = shown === queue.items.size ? "" : fmt(gettext("%(shown)s of %(all)s shown"), { shown, all: queue.items.size });
  // Said aloud, so that nobody takes an unplaced alert for one inside the area.
  const unplaced = state.area ? [...queue.items.values()].filter((i) => !hasPosition(i) && matchesFilters(i)).length : 0;
  $("filter-status-text").textContent = unplaced
    ? [text, fmt(gettext("%(count)s with no position yet, kept in view"), { count: unplaced })].filter(Boolean).join(" · ")
    : text;
}

function fillUnitFilter() {
  const select = $("filter-unit");
  const chosen = select.value;
  select.replaceChildren(h("option", { value: "" }, gettext("Any unit")),
    ...[...state.units.keys()].sort().map((n) => h("option", { value: n }, n)));
  select.value = chosen;
}

// Selection and the detail panel ----------------------------------------------------------------

function isSelected(kind, id) {
  return state.selected && state.selected.kind === kind && state.selected.id === id;
}

async function select(kind, id) {
  const changed = !isSelected(kind, id);
  state.selected = kind ? { kind, id } : null;
  if (changed) setFollowing(false);
  const key = kind ? keyOf(kind, id) : null;
  queue.markSelected(key);
  const item = key && queue.get(key);
  if (item && item.fresh) {
    // Looked at: no longer new (its place in the queue is settled at the next change, not under the pointer).
    item.fresh = false;
    queue.repaint(key);
  }
  state.arrivals = state.arrivals.filter((a) => a.key !== key);
  renderBanner();
  updateTitle();
  mapView.select(kind, id);
  if (kind !== "unit") mapView.unitTrail([]);
  await renderDetail();
}

async function renderDetail() {
  const panel = $("detail");
  const selected = state.selected;
  if (!selected) {
    panel.hidden = true;
    delete panel.dataset.showing;
    return;
  }
  const ctx = {
    api, units: state.units, act, close: () => select(null), confirm: confirmWithNote, openViewer,
    following: state.following, onFollow: setFollowing,
  };
  try {
    let content;
    if (selected.kind === "unit") {
      const unit = state.units.get(selected.id);
      if (!unit) return;
      const assignedTo = [...queue.items.values()].filter((i) => (i.assignments || []).some((a) => a.unit_number === unit.unit_number));
      content = unitDetail(unit, { close: ctx.close, assignedTo, select });
      mapView.unitTrail(unit.trail);
    } else if (selected.kind === "sos") {
      const detail = await api.get(`/api/sos/${selected.id}/`);
      ctx.nearest = detail.is_open && detail.latitude != null
        ? api.get(`/api/sos/${selected.id}/nearest-units/`, { limit: 10 }).catch(() => null) : null;
      content = sosDetail(detail, ctx);
    } else {
      const detail = await api.get(`/api/incidents/${selected.id}/`);
      ctx.nearest = detail.status !== "RESOLVED" && detail.beacon?.latitude != null
        ? api.get(`/api/incidents/${selected.id}/nearest-units/`, { limit: 10 }).catch(() => null) : null;
      content = incidentDetail(detail, ctx);
    }
    // Another row may have been selected while this one loaded.
    if (state.selected !== selected) return;
    const sameItem = panel.dataset.showing === keyOf(selected.kind, selected.id);
    if (sameItem) keepTyping(panel, content);
    panel.replaceChildren(content);
    panel.dataset.showing = keyOf(selected.kind, selected.id);
    panel.hidden = false;
  } catch (error) {
    panel.replaceChildren(h("p", { class: "form-error" }, fmt(gettext("Could not load details: %(error)s"), { error: error.message })));
    panel.hidden = false;
  }
}

// A status change redraws the panel; what the dispatcher was choosing in it must survive that.
function keepTyping(oldPanel, content) {
  const focused = document.activeElement && oldPanel.contains(document.activeElement) ? document.activeElement.name : null;
  for (const field of oldPanel.querySelectorAll("input[name], select[name]")) {
    const twin = content.querySelector(`[name="${field.name}"]`); // names are unique within a panel
    if (!twin || field.type === "checkbox") continue;
    if (field.value && (twin.tagName !== "SELECT" || [...twin.options].some((o) => o.value === field.value))) twin.value = field.value;
    if (field.name === focused) queueMicrotask(() => twin.focus());
  }
}

function setFollowing(on) {
  state.following = Boolean(on) && state.selected?.kind === "sos";
  document.body.dataset.follow = state.following ? "on" : "off";
  const box = $("detail").querySelector("input[name=follow]");
  if (box) box.checked = state.following;
  if (state.following) mapView.follow("sos", state.selected.id);
}

// Every action is one REST call; its effect comes back to every dashboard through the realtime events.
async function act(path, body) {
  try {
    const answer = await api.post(path, body);
    showError("");
    if (answer && answer.sos) applySOS(answer.sos, { action: "answer", note: body?.note });
    if (answer && answer.incident) applyIncident(answer.incident);
    await renderDetail();
  } catch (error) {
    showError(error.message);
  }
}

// Applying changes ------------------------------------------------------------------------------

function closeAlert(kind, id, { how, note = "", by = "", status }) {
  const key = keyOf(kind, id);
  const item = queue.get(key) || floodItems.get(key);
  const before = state.closed.get(key);
  removeOpen(key);
  // The event and the action's own answer both close it: whichever comes second only fills what is missing.
  state.closed.set(key, { key, kind, id, title: item ? item.title : before?.title || `${kind} ${id}`, how: before?.how || how,
    note: note || before?.note || "", closed_by: before?.closed_by || by, status, closed_at: before?.closed_at || new Date().toISOString() });
  renderClosed();
  state.arrivals = state.arrivals.filter((a) => a.key !== key);
  renderBanner();
  updateTitle();
}

// An SOS as the API answers it (after an action): patch it, or close it.
function applySOS(raw, { action, note = "" } = {}) {
  const id = raw.sos_id ?? raw.id;
  if (!OPEN_SOS.includes(raw.status) && !raw.duress_at) {
    closeAlert("sos", id, { how: raw.status === "cancelled" && action === "answer" ? "cancelled_on_behalf" : raw.status,
      note, by: config.user.role + ":" + config.user.username, status: raw.status });
    return;
  }
  const known = queue.get(keyOf("sos", id)) || floodItems.get(keyOf("sos", id));
  const since = known && known.status !== raw.status ? new Date().toISOString() : known?.status_since;
  upsert(sosItem(raw, { status_since: since }), { reorder: !known || known.status !== raw.status });
}

function applyIncident(raw) {
  const id = raw.incident_id || raw.id;
  if (!OPEN_INCIDENTS.includes(raw.status)) {
    closeAlert("incident", id, { how: "resolved", note: raw.resolution_note || "", by: raw.by || "", status: raw.status });
    return;
  }
  const known = queue.get(keyOf("incident", id));
  const since = known && known.status !== raw.status ? (raw.timestamp || new Date().toISOString()) : known?.status_since;
  upsert(incidentItem(raw, { status_since: since }), { reorder: !known || known.status !== raw.status || known.priority !== raw.priority });
}

function renderBanner() {
  const banner = $("alert-banner");
  if (!state.arrivals.length) {
    banner.hidden = true;
    return;
  }
  const [newest] = state.arrivals;
  $("alert-count").textContent = state.arrivals.length > 1 ? fmt(gettext("%(n)s new"), { n: state.arrivals.length }) : "";
  $("alert-text").textContent = state.arrivals.length > 1
    ? `${newest.text} · ${state.arrivals.slice(1, 4).map((a) => a.short).join(" · ")}${state.arrivals.length > 4 ? " …" : ""}`
    : newest.text;
  banner.hidden = false;
}

// A new or escalated alert: banner (stacked), highlighted row, map brought to it (the selection stays), alarm.
function announce(kind, id, text, { short } = {}) {
  const key = keyOf(kind, id);
  const item = queue.get(key);
  if (item && !isSelected(kind, id)) {
    item.fresh = true;
    queue.upsert(item);
  }
  state.arrivals = [{ key, kind, id, text, short: short || text }, ...state.arrivals.filter((a) => a.key !== key)];
  renderBanner();
  // Restart the flashing animation for every new alert.
  const banner = $("alert-banner");
  banner.style.animation = "none";
  void banner.offsetWidth;
  banner.style.animation = "";
  mapView.reveal(kind, id);
  beep();
  notify(gettext("NaariKavach: new alert"), text, () => select(kind, id));
  updateTitle();
}

function updateTitle() {
  const n = state.arrivals.length;
  document.title = `${n ? `(${n}) ` : ""}${gettext("Dispatch · NaariKavach")}`;
}

function moveSOS(sosId, latitude, longitude, point) {
  const key = keyOf("sos", sosId);
  const item = queue.get(key) || floodItems.get(key);
  if (!item) return;
  item.location_pending = false;
  item.latitude = latitude;
  item.longitude = longitude;
  item.trail.push([latitude, longitude]);
  if (item.trail.length > 500) item.trail.splice(0, item.trail.length - 500);
  mapView.appendPoint(item, [latitude, longitude]);
  if (isSelected("sos", sosId)) {
    // The open detail grows by the point: no refetch of the whole SOS.
    const list = $("detail").querySelector("[data-role=trail]");
    if (list) list.prepend(trailItem({ latitude, longitude, ...point }));
    else renderDetail();
    if (state.following) mapView.follow("sos", sosId);
  }
}

// Unit positions arrive many times a second: they are kept as they come and drawn a few times a second, so the
// page repaints the map and the unit list in one go instead of once per position.
const UNIT_DRAW_MS = 250;
const pendingUnits = new Map();
let unitDrawTimer = null;

function queueUnitMove(data) {
  pendingUnits.set(data.unit_number, data);
  if (!unitDrawTimer) {
    unitDrawTimer = setTimeout(() => {
      unitDrawTimer = null;
      const moves = [...pendingUnits.values()];
      pendingUnits.clear();
      for (const move of moves) moveUnit(move);
    }, UNIT_DRAW_MS);
  }
}

function moveUnit(data) {
  const unit = state.units.get(data.unit_number) || { unit_number: data.unit_number, status: "available", trail: [] };
  Object.assign(unit, { last_latitude: data.latitude, last_longitude: data.longitude, last_seen_at: data.timestamp });
  unit.trail = [...(unit.trail || []), [data.latitude, data.longitude]].slice(-UNIT_TRAIL_POINTS);
  if (!state.units.has(unit.unit_number)) {
    state.units.set(unit.unit_number, unit);
    renderUnits();
    fillUnitFilter();
  } else {
    patchUnit(unit);
  }
}

const handlers = {
  new_sos(data) {
    // Already in the snapshot, which is newer than this event: nothing to add.
    if (queue.has(keyOf("sos", data.sos_id)) || floodItems.has(keyOf("sos", data.sos_id))) return;
    const now = new Date().toISOString();
    upsert(sosItem(data, { trail: data.latitude == null ? [] : [[data.latitude, data.longitude]], assignments: [],
      status_since: data.created_at || now, waiting_since: data.created_at || now, level: 0 }));
    if (data.suspected_flood) {
      renderFlood();
      // One announcement per source, not one alarm per fake alert.
      if (state.floodGroups.has(data.flood_source)) return;
      state.floodGroups.add(data.flood_source);
      announce("sos", data.sos_id, gettext("Many SOS from one source: grouped as unverified"));
      return;
    }
    const pending = data.location_pending ? ` (${gettext("location pending")})` : "";
    announce("sos", data.sos_id, fmt(gettext("New SOS #%(id)s from %(name)s"), { id: data.sos_id, name: data.name }) + pending,
      { short: `SOS #${data.sos_id} ${data.name}` });
  },
  sos_updated(data) {
    const key = keyOf("sos", data.sos_id);
    const item = queue.get(key) || floodItems.get(key);
    if (data.action === "located") {
      if (item) {
        item.accuracy_m = data.accuracy_m;
        item.location_pending = false;
        upsert(item, { reorder: false });
        moveSOS(data.sos_id, data.latitude, data.longitude, { accuracy_m: data.accuracy_m, timestamp: data.timestamp });
        // Her first position: bring it into sight (the selection stays where it is).
        mapView.reveal("sos", data.sos_id);
      }
    } else if (data.action === "cancelled_under_duress") {
      if (item) upsert({ ...item, duress_at: data.duress_at });
      else snapshot();
      announce("sos", data.sos_id, fmt(gettext("SOS #%(id)s CANCELLED UNDER DURESS: still open"), { id: data.sos_id }));
    } else if (!OPEN_SOS.includes(data.status)) {
      if (item || !state.closed.has(key)) {
        closeAlert("sos", data.sos_id, { how: data.action, note: data.note || "", by: data.by, status: data.status });
      }
    } else if (item) {
      const assignments = [...item.assignments];
      if (data.action === "assigned" && !assignments.some((a) => a.unit_number === data.unit_number)) {
        assignments.push({ officer_name: data.officer_name, unit_number: data.unit_number, assigned_at: data.timestamp });
      }
      const kept = data.action === "unassigned" ? assignments.filter((a) => a.unit_number !== data.unit_number) : assignments;
      const changed = item.status !== data.status;
      upsert({ ...item, status: data.status, needs_ack: data.status === "active", assignments: kept,
        status_since: changed ? data.timestamp : item.status_since }, { reorder: changed });
      if (changed) updateCounts();
    }
    if (isSelected("sos", data.sos_id) && data.action !== "located") renderDetail();
  },
  // A unit's status changed (an assignment, a closure, the officer's app): its row and marker only.
  unit_status_changed(data) {
    const unit = state.units.get(data.unit_number);
    if (!unit) return;
    unit.status = data.status;
    patchUnit(unit);
    if (isSelected("unit", data.unit_number)) renderDetail();
  },
  // A point of an SOS's trail (the SOS rooms) ...
  location_history: (data) => moveSOS(data.sos_id, data.latitude, data.longitude, data),
  // ... and the tracking channel, which carries both SOS points and unit positions.
  location_tracking_update(data) {
    if (data.kind === "unit") queueUnitMove(data);
    else if (data.sos_id) moveSOS(data.sos_id, data.latitude, data.longitude, data);
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
    if (queue.has(keyOf("incident", data.incident_id))) return; // in the (newer) snapshot already
    const now = new Date().toISOString();
    const item = incidentItem(data, { status_since: now, waiting_since: now, level: 0 });
    upsert(item);
    announce("incident", item.id, fmt(gettext("New incident: %(what)s (%(priority)s)"), { what: item.label, priority: item.priority }),
      { short: item.label });
  },
  // Escalation: the row climbs to the top with its level, and the alarm sounds again at every level.
  sos_escalated(data) {
    const item = queue.get(keyOf("sos", data.sos_id));
    if (!item) return;
    upsert({ ...item, level: Math.max(item.level || 0, data.level), level_label: data.label, status_since: data.status_since });
    if (data.realert) announce("sos", data.sos_id, fmt(gettext("ESCALATED L%(level)s: SOS #%(id)s %(label)s"), { level: data.level, id: data.sos_id, label: data.label || "" }));
  },
  incident_escalated(data) {
    const key = keyOf("incident", data.incident_id);
    const known = queue.get(key);
    if (!known) return;
    upsert(incidentItem(data, { level: Math.max(known.level || 0, data.level), level_label: data.label, status_since: data.status_since }));
    if (data.realert) announce("incident", known.id, fmt(gettext("ESCALATED L%(level)s: %(what)s %(label)s"), { level: data.level, what: known.label, label: data.label || "" }));
  },
  incident_updated(data) {
    applyIncident(data);
    if (isSelected("incident", data.incident_id)) renderDetail();
  },
  resync_required: () => snapshot(),
  error: (data) => showError(data.message),
};

function onEvent(event, data) {
  if (!handlers[event]) return;
  if (!state.ready || state.loading) early.push([event, data]);
  else handlers[event](data);
}

// Keyboard --------------------------------------------------------------------------------------

function typing(target) {
  return target instanceof HTMLElement && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
}

function moveInQueue(by) {
  const rows = queue.visibleRows();
  if (!rows.length) return;
  const current = rows.indexOf(document.activeElement.closest?.("#queue > li") || $("queue").querySelector("li.selected"));
  const next = rows[Math.max(0, Math.min(rows.length - 1, current + by))] || rows[0];
  next.focus();
  const item = queue.get(next.dataset.key);
  if (item) select(item.kind, item.id);
}

function detailAction(name) {
  return $("detail").hidden ? null : $("detail").querySelector(`[data-action=${name}]`);
}

const SHORTCUTS = {
  j: () => moveInQueue(1),
  ArrowDown: (e) => e.target.closest?.("#queue") && moveInQueue(1),
  k: () => moveInQueue(-1),
  ArrowUp: (e) => e.target.closest?.("#queue") && moveInQueue(-1),
  a: () => detailAction("acknowledge")?.click(),
  d: () => $("assign-unit")?.focus(),
  r: () => detailAction("resolve")?.click(),
  f: () => state.selected?.kind === "sos" && setFollowing(!state.following),
  "/": () => $("search").focus(),
  "?": () => openHelp(),
  m: () => setMuted(!muted()),
};

document.addEventListener("keydown", (e) => {
  if (e.ctrlKey || e.metaKey || e.altKey || document.querySelector("dialog[open]")) return;
  if (e.key === "Escape") {
    if (typing(e.target)) e.target.blur();
    else select(null);
    return;
  }
  if (typing(e.target)) return;
  const shortcut = SHORTCUTS[e.key];
  if (!shortcut) return;
  if (shortcut(e) !== false) e.preventDefault();
});

// Connection, banners, sound, theme -------------------------------------------------------------

function showError(message) {
  $("error-banner").textContent = message;
  $("error-banner").hidden = !message;
}

function setConnection(status, detail) {
  $("connection").dataset.state = status;
  $("connection").textContent = { online: gettext("Live"), offline: gettext("Offline"), refused: gettext("Refused") }[status];
  $("offline-banner").hidden = status === "online";
  if (status === "refused") showError(fmt(gettext("The realtime server refused this page (%(detail)s). Sign out and in again."), { detail }));
}

function updateSoundButton() {
  $("sound").hidden = !soundBlocked();
  document.body.dataset.sound = soundBlocked() ? "blocked" : "on";
}

// Sound and notifications were asked for at sign-in (login.js): that gesture on this origin lets the page start its
// audio now. Only where the browser still refuses (a reload, a bookmark, another browser's rule) does the
// "Start the shift" dialog ask for a click. A refused resume() never settles, hence the bound.
async function soundAtStart() {
  if (soundBlocked()) {
    await Promise.race([enableSound().catch(() => false), new Promise((resolve) => setTimeout(resolve, 1000))]);
  }
  updateSoundButton();
  if (soundBlocked()) $("start-shift").showModal();
}

let muteTimer = null;
function setMuted(on) {
  clearTimeout(muteTimer);
  if (on) {
    mute(60);
    muteTimer = setTimeout(() => setMuted(false), 60000);
  } else {
    unmute();
  }
  $("mute").setAttribute("aria-pressed", String(Boolean(on)));
  $("mute").textContent = on ? gettext("Alarm muted (60 s)") : gettext("Mute alarm 60 s");
  document.body.dataset.muted = on ? "true" : "false";
}

// Sound and notifications are asked for when the shift starts, so the first alert is never silent.
async function startShift() {
  await enableSound();
  await askForNotifications();
  updateSoundButton();
  $("start-shift").close();
}

$("sound").addEventListener("click", startShift);
$("start-shift-button").addEventListener("click", startShift);
$("mute").addEventListener("click", () => setMuted(!muted()));
$("alert-dismiss").addEventListener("click", (e) => {
  e.stopPropagation();
  state.arrivals = [];
  renderBanner();
  updateTitle();
});
$("alert-banner").addEventListener("click", () => {
  const [newest] = state.arrivals;
  if (newest) select(newest.kind, newest.id);
});
$("help-button").addEventListener("click", openHelp);
$("history-button").addEventListener("click", () => openHistory(api, { kind: $("filter-kind").value, q: $("search").value,
  priority: $("filter-priority").value, unit: $("filter-unit").value, units: [...state.units.keys()].sort(), area: state.area }));
for (const id of FILTER_IDS) $(id).addEventListener("input", applyFilters);
$("filter-area").addEventListener("input", setArea);
$("area-draw").addEventListener("click", startDrawing);
$("area-clear").addEventListener("click", () => {
  areaDraw.cancel();
  showArea(null);
});
$("filters").addEventListener("submit", (e) => e.preventDefault());

const THEMES = ["system", "dark", "light"];
function applyTheme(theme) {
  if (theme === "system") delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = theme;
  $("theme").textContent = { system: gettext("Theme: system"), dark: gettext("Theme: dark"), light: gettext("Theme: light") }[theme];
  localStorage.setItem("naarikavach.theme", theme);
}
$("theme").addEventListener("click", () => {
  const current = localStorage.getItem("naarikavach.theme") || "system";
  applyTheme(THEMES[(THEMES.indexOf(current) + 1) % THEMES.length]);
});
applyTheme(localStorage.getItem("naarikavach.theme") || "system");

setInterval(() => queue.tick(), 1000);
setInterval(renderClosed, 60000); // closed alerts leave the list after two hours
// The alarm repeats while anything waits for a human (unverified floods excepted: they were announced once).
startRepeating(() => [...queue.items.values()].some((i) => i.needs_ack), config.alarmRepeatMs || 10000);

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
      performance.mark("rooms-joined");
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
    if (first) {
      mapView.fitAll();
      fillUnitFilter();
      performance.mark("queue-rendered");
    }
    applyFilters();
    if (!state.loading) for (const [event, data] of early.splice(0)) handlers[event](data);
    document.body.dataset.ready = "true";
  });
  return snapshots;
}

updateSoundButton();
setMuted(false);
soundAtStart();
// A realtime server that accepts the connection but never answers must not keep the page empty.
setTimeout(() => state.ready || state.loading || snapshot(), 4000);
window.naarikavach = { state, queue, realtime, map: mapView.map, handlers: (event, data) => onEvent(event, data) };
