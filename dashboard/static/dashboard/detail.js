// The detail panel: one SOS, incident or unit with its trail, assignments, timeline in plain words, evidence and
// actions. Actions that close an alert ask first, with a required note; assignment picks a unit from the nearest
// units and an officer from that unit's roster.

import { ago, clock, h } from "./dom.js";
import { fmt, gettext, statusWord, timelineSentence } from "./words.js";

function header(title, status, close) {
  return h("header", {},
    h("h2", { id: "detail-title" }, title),
    status ? h("span", { class: `badge status-${status}`, "data-role": "status" }, statusWord(status)) : null,
    h("button", { type: "button", class: "quiet", "aria-label": gettext("Close details"), onclick: close }, "✕"));
}

function facts(pairs) {
  return h("dl", {}, pairs.filter(([, v]) => v !== null && v !== undefined && v !== "").flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}

function section(title, items, empty, listClass = "") {
  return [h("h3", {}, title), items.length ? h("ol", { class: listClass }, items) : h("p", { class: "muted small" }, empty)];
}

export function trailItem(p) {
  const time = p.recorded_at || p.timestamp;
  return h("li", {}, `${time ? clock(time) : ""} · ${p.latitude.toFixed(5)}, ${p.longitude.toFixed(5)}${p.accuracy_m ? ` ±${Math.round(p.accuracy_m)} m` : ""}`);
}

function unitOption(unit, assigned) {
  const where = unit.distance_km != null
    ? fmt(gettext("%(km)s km, about %(min)s min"), { km: unit.distance_km.toFixed(1), min: Math.round(unit.eta_minutes) })
    : gettext("no recent position");
  const label = `${unit.unit_number} · ${statusWord(unit.status)} · ${where}${assigned ? ` · ${gettext("already assigned")}` : ""}`;
  return h("option", { value: unit.unit_number, disabled: assigned || unit.status === "off_duty" }, label);
}

// Unit from the nearest-units list (then the rest), officer from the chosen unit's roster: nothing typed. The same
// form serves SOS alerts (which record the officer's name) and incidents (which record the officer's account):
// `officerValue` says which of the two the officer select submits.
function assignForm({ units, nearest, assignedUnits, onAssign, officerValue = "name" }) {
  const unitSelect = h("select", { name: "unit_number", id: "assign-unit" });
  const officerSelect = h("select", { name: officerValue === "name" ? "officer_name" : "officer", id: "assign-officer" });
  const button = h("button", { type: "submit", class: "primary" }, gettext("Assign"));
  const hint = h("p", { class: "muted small", role: "status" });

  // The dispatcher's own pick survives a refill; the default (first free unit) follows the nearest list when it comes.
  let picked = false;
  function fillUnits(near) {
    const chosen = picked ? unitSelect.value : "";
    const nearNumbers = new Set(near.map((u) => u.unit_number));
    const rest = [...units.values()].filter((u) => !nearNumbers.has(u.unit_number))
      .sort((a, b) => (a.status !== "available") - (b.status !== "available") || a.unit_number.localeCompare(b.unit_number));
    const options = [...near, ...rest].map((u) => unitOption({ ...units.get(u.unit_number), ...u }, assignedUnits.has(u.unit_number)));
    unitSelect.replaceChildren(...options);
    const firstFree = options.find((o) => !o.disabled);
    unitSelect.value = options.some((o) => o.value === chosen && !o.disabled) ? chosen : (firstFree ? firstFree.value : "");
    fillOfficers();
  }

  function fillOfficers() {
    const unit = units.get(unitSelect.value);
    const crew = (unit && unit.crew) || (unit && unit.officers || []).map((username) => ({ username, name: username }));
    const chosen = officerSelect.value;
    officerSelect.replaceChildren(...crew.map((o) => h("option", { value: o[officerValue] }, o.name === o.username ? o.name : `${o.name} (${o.username})`)));
    if (crew.some((o) => o[officerValue] === chosen)) officerSelect.value = chosen;
    button.disabled = !unitSelect.value || !crew.length;
    hint.textContent = unitSelect.value && !crew.length ? gettext("No officer on this unit's roster: an admin adds them.") : "";
  }

  unitSelect.addEventListener("change", () => { picked = true; fillOfficers(); });
  fillUnits([]);
  nearest?.then((near) => near && fillUnits(near)).catch(() => {});
  return h("form", {
    class: "assign",
    onsubmit: (e) => {
      e.preventDefault();
      if (unitSelect.value && officerSelect.value) onAssign(unitSelect.value, officerSelect.value);
    },
  }, h("label", { for: "assign-unit" }, gettext("Unit (nearest first)")), unitSelect,
  h("label", { for: "assign-officer" }, gettext("Officer (from the unit's roster)")), officerSelect, button, hint);
}

function evidenceFigure({ img, caption, onOpen }) {
  return h("figure", { class: "thumb" },
    h("button", { type: "button", class: "thumb-open", "aria-label": gettext("Open full size"), onclick: onOpen }, img),
    h("figcaption", { class: "muted small" }, caption));
}

function sosPhotos(sos, api, openViewer) {
  // Private files: fetched with the dashboard's token, shown from a blob URL.
  const photos = sos.images || [];
  const sources = photos.map((photo) => api.blobUrl(photo.image));
  const viewerItems = photos.map((photo, i) => ({ src: sources[i], alt: photo.description || fmt(gettext("Photo of SOS %(id)s"), { id: sos.id }),
    sha256: photo.sha256, caption: `${photo.description ? `${photo.description} · ` : ""}${clock(photo.uploaded_at)}` }));
  return photos.map((photo, i) => {
    const img = h("img", { alt: viewerItems[i].alt, "data-photo-id": String(photo.id) });
    sources[i].then((src) => { img.src = src; }).catch(() => { img.alt = gettext("Photo could not be loaded"); });
    return evidenceFigure({ img, caption: viewerItems[i].caption, onOpen: () => openViewer(viewerItems, i) });
  });
}

// Cameras linked to an SOS now, with their health; their pre-roll frames, fetched with the officer's credential.
function cameraSection(sos, api, openViewer) {
  const linked = (sos.cameras || []).filter((c) => !c.left_at);
  const frames = h("div", { class: "evidence camera-evidence" });
  if (api && linked.length) {
    api.get(`/api/sos/${sos.id}/camera-evidence/`).then((rows) => {
      const items = rows.map((row) => ({ src: api.blobUrl(row.image), alt: fmt(gettext("Camera %(id)s before the SOS"), { id: row.camera_id }),
        sha256: row.sha256, caption: `${row.camera_id} · ${row.captured_at ? clock(row.captured_at) : ""}` }));
      rows.forEach((row, i) => {
        const img = h("img", { alt: items[i].alt, "data-evidence-id": String(row.id) });
        items[i].src.then((src) => { img.src = src; }).catch(() => { img.alt = gettext("Frame could not be loaded"); });
        frames.append(evidenceFigure({ img, caption: items[i].caption, onOpen: () => openViewer(items, i) }));
      });
    }).catch(() => {});
  }
  return [
    ...section(gettext("Cameras"), linked.map((c) => h("li", { class: `camera health-${c.health}`, "data-camera-id": c.camera_id },
      `${c.name} · ${c.health} · ${c.reason}`)), gettext("No camera covers this position.")),
    frames,
  ];
}

export function sosDetail(sos, ctx) {
  const { api, units, act, close, confirm, nearest, openViewer, following, onFollow } = ctx;
  const open = sos.is_open;
  const trail = [...sos.locations].sort((a, b) => new Date(b.recorded_at) - new Date(a.recorded_at));
  const assignedUnits = new Set(sos.assignments.map((a) => a.unit_number));
  const olderButton = h("button", { type: "button", class: "quiet", "data-role": "older-points" }, gettext("Older points"));
  const trailList = h("ol", { class: "trail", "data-role": "trail" }, trail.map(trailItem));
  olderButton.addEventListener("click", async () => {
    const last = trailList.lastElementChild;
    const before = trail.length ? (ctx.oldest || trail[trail.length - 1].recorded_at) : null;
    if (!before) return;
    olderButton.disabled = true;
    try {
      const page = await api.get(`/api/console/sos/${sos.id}/trail/`, { before, limit: 100 });
      trailList.append(...page.points.map(trailItem));
      ctx.oldest = page.points.length ? page.points[page.points.length - 1].recorded_at : before;
      olderButton.hidden = !page.has_more;
    } finally {
      olderButton.disabled = false;
      void last;
    }
  });
  olderButton.hidden = trail.length < 20;
  return h("div", { "data-sos-id": String(sos.id) },
    header(`SOS #${sos.id} · ${sos.name}`, sos.status, close),
    sos.duress_at ? h("p", { class: "flag flag-cancelled-under-duress block" },
      fmt(gettext("CANCELLED UNDER DURESS at %(time)s: someone may be forcing her. Keep going."), { time: clock(sos.duress_at) })) : null,
    sos.latitude == null ? h("p", { class: "flag flag-location-pending block" }, gettext("LOCATION PENDING: call her if a phone is given.")) : null,
    facts([
      [gettext("Type"), sos.sos_type === 1 ? gettext("Alert") : gettext("Emergency")],
      [gettext("Raised"), `${clock(sos.created_at)} (${ago(sos.created_at)})`],
      [gettext("Phone"), sos.phone ? h("a", { href: `tel:${sos.phone}` }, sos.phone) : null],
      [gettext("Flood"), sos.suspected_flood ? gettext("Unverified: many SOS from one source") : null],
      [gettext("Position"), sos.latitude == null ? gettext("not known yet")
        : `${sos.latitude.toFixed(5)}, ${sos.longitude.toFixed(5)}${sos.accuracy_m ? ` ±${Math.round(sos.accuracy_m)} m` : ""}`],
      [gettext("Last known"), sos.last_known ? `${sos.last_known.latitude.toFixed(5)}, ${sos.last_known.longitude.toFixed(5)}${sos.last_known.accuracy_m ? ` ±${Math.round(sos.last_known.accuracy_m)} m` : ""}${sos.last_known.age_s != null ? ` (${fmt(gettext("%(min)s min before the SOS"), { min: Math.round(sos.last_known.age_s / 60) })})` : ""}` : null],
      [gettext("Hints"), sos.device_hints && Object.keys(sos.device_hints).length ? Object.entries(sos.device_hints).map(([k, v]) => `${k}: ${v}`).join(" · ") : null],
      [gettext("Last fix"), ago(sos.last_located_at)],
    ]),
    sos.latitude != null ? h("label", { class: "follow" },
      h("input", { type: "checkbox", name: "follow", checked: following, onchange: (e) => onFollow(e.target.checked) }),
      gettext("Follow on the map (f)")) : null,
    open && h("div", { class: "actions" },
      sos.status === "active" && h("button", { type: "button", class: "primary", "data-action": "acknowledge",
        onclick: () => act(`/api/sos/${sos.id}/acknowledge/`) }, gettext("Acknowledge")),
      h("button", { type: "button", class: "danger", "data-action": "resolve", onclick: async () => {
        const note = await confirm({ title: fmt(gettext("Resolve SOS #%(id)s?"), { id: sos.id }),
          message: gettext("Resolving closes the alert for everyone. Say what happened."), confirmLabel: gettext("Resolve") });
        if (note !== null) act(`/api/resolve-sos/${sos.id}/`, { note });
      } }, gettext("Resolve…")),
      !sos.duress_at && h("button", { type: "button", "data-action": "cancel-on-behalf", onclick: async () => {
        const note = await confirm({ title: fmt(gettext("Cancel SOS #%(id)s for the citizen?"), { id: sos.id }),
          message: gettext("Only when she has told you she is safe. Say how you know."), confirmLabel: gettext("Cancel the SOS") });
        if (note !== null) act(`/api/sos/${sos.id}/cancel-on-behalf/`, { note });
      } }, gettext("Cancel for her…"))),
    open && assignForm({ units, nearest, assignedUnits, onAssign: (unit_number, officer_name) =>
      act("/api/assign-officer/", { sos_request: sos.id, officer_name, unit_number }) }),
    ...section(gettext("Assignments"), sos.assignments.map((a) =>
      h("li", { class: "assignment", dataset: { assignmentId: String(a.id) } },
        fmt(gettext("%(officer)s · unit %(unit)s · %(time)s"), { officer: a.officer_name, unit: a.unit_number, time: clock(a.assigned_at) }),
        open ? h("button", { type: "button", class: "quiet small-button", "data-action": "unassign", onclick: async () => {
          const note = await confirm({ title: fmt(gettext("Take unit %(unit)s off this SOS?"), { unit: a.unit_number }),
            message: gettext("The unit is told, and is free again if it has nothing else."), confirmLabel: gettext("Take off"),
            required: false, danger: false });
          if (note !== null) act(`/api/sos/${sos.id}/assignments/${a.id}/unassign/`, { note });
        } }, gettext("Take off")) : null)), gettext("No unit assigned yet.")),
    ...cameraSection(sos, api, openViewer),
    h("h3", {}, gettext("Photos")),
    (sos.images || []).length ? h("div", { class: "evidence" }, sosPhotos(sos, api, openViewer)) : h("p", { class: "muted small" }, gettext("No photos.")),
    h("h3", {}, gettext("Trail")), trail.length ? trailList : h("p", { class: "muted small", "data-role": "no-trail" }, gettext("No points.")),
    olderButton,
    ...section(gettext("Timeline"), sos.audit_trail.map((e) =>
      h("li", {}, `${clock(e.created_at)} · ${timelineSentence(e)}`)), gettext("Nothing yet."), "timeline"));
}

export function incidentDetail(incident, ctx) {
  const { api, units, act, close, confirm, openViewer, nearest } = ctx;
  const id = incident.id;
  const status = incident.status;
  const open = status !== "RESOLVED";
  const beacon = incident.beacon || {};
  const viewerItems = (incident.images || []).map((image) => ({ src: api.blobUrl(image.image),
    alt: image.description || fmt(gettext("Evidence of incident %(id)s"), { id }), sha256: image.sha256, caption: clock(image.uploaded_at) }));
  const images = (incident.images || []).map((image, i) => {
    const img = h("img", { alt: viewerItems[i].alt, "data-image-id": String(image.id) });
    // The link needs the officer's credential (or is a signed URL): fetched, then shown from memory.
    viewerItems[i].src.then((src) => { img.src = src; }).catch(() => { img.alt = gettext("Evidence could not be loaded"); });
    return evidenceFigure({ img, caption: viewerItems[i].caption, onOpen: () => openViewer(viewerItems, i) });
  });
  const clips = (incident.audio || []).map((clip) => {
    const player = h("audio", { controls: "", preload: "metadata", "data-audio-id": String(clip.id) });
    // Like the images: the clip needs the officer's credential, so it is fetched and played from memory.
    api.blobUrl(clip.audio).then((src) => { player.src = src; }).catch(() => { player.title = gettext("Audio could not be loaded"); });
    return h("figure", { style: "margin:0" }, player,
      h("figcaption", { class: "muted small" }, `${clock(clip.uploaded_at)} · ${clip.duration_s.toFixed(1)} s`));
  });
  return h("div", { "data-incident-id": id },
    header(`${incident.kind} · ${beacon.name || beacon.beacon_id}`, status.toLowerCase(), close),
    facts([
      [gettext("Priority"), incident.priority],
      [gettext("Place"), [beacon.name, beacon.building, beacon.floor && fmt(gettext("floor %(floor)s"), { floor: beacon.floor })].filter(Boolean).join(", ")],
      [gettext("Opened"), `${clock(incident.created_at)} (${ago(incident.created_at)})`],
      [gettext("Signals"), incident.signal_count],
      [gettext("Assigned to"), incident.assigned_to],
      [gettext("What was seen"), incident.description],
      [gettext("Resolution note"), incident.resolution_note],
    ]),
    open && h("div", { class: "actions" },
      status === "CREATED" && h("button", { type: "button", class: "primary", "data-action": "acknowledge",
        onclick: () => act(`/api/incidents/${id}/acknowledge/`) }, gettext("Acknowledge")),
      status === "ASSIGNED" && h("button", { type: "button", onclick: () => act(`/api/incidents/${id}/start/`) }, gettext("Mark in progress")),
      h("button", { type: "button", class: "danger", "data-action": "resolve", onclick: async () => {
        const note = await confirm({ title: gettext("Resolve this incident?"), message: gettext("Say what was found and done."),
          confirmLabel: gettext("Resolve") });
        if (note !== null) act(`/api/incidents/${id}/resolve/`, { resolution_note: note });
      } }, gettext("Resolve…"))),
    // An incident has one officer: picked, like an SOS's, from the units nearest its beacon and that unit's roster.
    open && assignForm({ units, nearest, assignedUnits: new Set(), officerValue: "username",
      onAssign: (unit_number, officer) => act(`/api/incidents/${id}/assign/`, { officer }) }),
    h("h3", {}, gettext("Evidence")),
    images.length ? h("div", { class: "evidence" }, images) : h("p", { class: "muted small" }, gettext("No images.")),
    clips.length ? h("div", { class: "evidence-audio" }, clips) : null,
    ...section(gettext("Signals"), (incident.signals || []).map((sig) =>
      h("li", {}, `${clock(sig.received_at)} · ${sig.signal_type.toLowerCase().replace(/_/g, " ")}${sig.confidence_score != null ? ` ${Math.round(sig.confidence_score * 100)}%` : ""}${sig.device_id ? ` · ${sig.device_id}` : ""}`)),
    gettext("No signals.")),
    ...section(gettext("Timeline"), (incident.timeline || []).map((e) =>
      h("li", {}, `${clock(e.created_at)} · ${timelineSentence(e)}`)), gettext("Nothing yet."), "timeline"));
}

// A unit: its status, crew, what it is assigned to now, and where it has been (its recent positions).
export function unitDetail(unit, { close, assignedTo, select }) {
  const crew = unit.crew || (unit.officers || []).map((username) => ({ username, name: username }));
  return h("div", { "data-unit": unit.unit_number },
    header(fmt(gettext("Unit %(unit)s"), { unit: unit.unit_number }), unit.status, close),
    facts([
      [gettext("Name"), unit.name],
      [gettext("Status"), statusWord(unit.status)],
      [gettext("Last seen"), unit.last_seen_at ? `${clock(unit.last_seen_at)} (${ago(unit.last_seen_at)})` : gettext("no position yet")],
      [gettext("Position"), unit.last_latitude != null ? `${unit.last_latitude.toFixed(5)}, ${unit.last_longitude.toFixed(5)}` : null],
    ]),
    ...section(gettext("Crew"), crew.map((o) => h("li", {}, o.name === o.username ? o.name : `${o.name} (${o.username})`)), gettext("Nobody on the roster.")),
    ...section(gettext("Assigned to"), assignedTo.map((item) => h("li", {},
      h("button", { type: "button", class: "link", onclick: () => select(item.kind, item.id) }, item.title))), gettext("Nothing open.")));
}
