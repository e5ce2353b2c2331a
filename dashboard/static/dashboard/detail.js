// The detail panel: one SOS or incident with its trail, assignments, timeline, evidence and actions.

import { ago, clock, h } from "./dom.js";

function header(title, status, close) {
  return h("header", {},
    h("h3", {}, title),
    h("span", { class: `badge status-${status}`, "data-role": "status" }, status),
    h("button", { type: "button", class: "quiet", "aria-label": "Close details", onclick: close }, "✕"));
}

function facts(pairs) {
  return h("dl", {}, pairs.filter(([, v]) => v !== null && v !== undefined && v !== "").flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}

function section(title, items, empty) {
  return [h("h4", {}, title), items.length ? h("ol", {}, items) : h("p", { class: "muted small" }, empty)];
}

function assignForm(units, onAssign) {
  const available = [...units].sort((a, b) => (a.status !== "available") - (b.status !== "available"));
  const unitSelect = h("select", { name: "unit_number", "aria-label": "Unit" },
    available.map((u) => h("option", { value: u.unit_number }, `${u.unit_number} (${u.status})`)));
  const officer = h("input", { name: "officer_name", placeholder: "Officer name", "aria-label": "Officer name", required: true });
  const suggest = () => {
    const unit = units.find((u) => u.unit_number === unitSelect.value);
    officer.value = (unit && unit.officers && unit.officers[0]) || "";
  };
  unitSelect.addEventListener("change", suggest);
  suggest();
  return h("form", {
    class: "assign",
    onsubmit: (e) => {
      e.preventDefault();
      if (unitSelect.value && officer.value.trim()) onAssign(unitSelect.value, officer.value.trim());
    },
  }, unitSelect, officer, h("button", { type: "submit", class: "primary", disabled: !units.length }, "Assign"));
}

function officerForm(units, onAssign) {
  const officers = units.flatMap((u) => (u.officers || []).map((username) => ({ username, unit: u })));
  const select = h("select", { name: "officer", "aria-label": "Officer" },
    officers.map((o) => h("option", { value: o.username }, `${o.username} · ${o.unit.unit_number} (${o.unit.status})`)));
  return h("form", {
    class: "assign assign-officer",
    onsubmit: (e) => {
      e.preventDefault();
      if (select.value) onAssign(select.value);
    },
  }, select, h("button", { type: "submit", class: "primary", disabled: !officers.length }, "Assign"));
}

function resolveForm(noteRequired, onResolve) {
  const note = h("input", {
    name: "note", "aria-label": "Resolution note", required: noteRequired,
    placeholder: noteRequired ? "What happened (required)" : "Note (optional)",
  });
  return h("form", {
    class: "assign resolve",
    onsubmit: (e) => {
      e.preventDefault();
      onResolve(note.value.trim());
    },
  }, note, h("button", { type: "submit" }, "Resolve"));
}

function sosPhotos(sos, api) {
  // Private files: fetched with the dashboard's token, shown from a blob URL.
  return (sos.images || []).map((photo) => {
    const img = h("img", { alt: photo.description || `Photo of SOS ${sos.id}`, "data-photo-id": String(photo.id) });
    api.blobUrl(photo.image).then((src) => { img.src = src; }).catch(() => { img.alt = "Photo could not be loaded"; });
    return h("figure", { style: "margin:0" }, img,
      h("figcaption", { class: "muted small" }, `${photo.description ? `${photo.description} · ` : ""}${clock(photo.uploaded_at)}`));
  });
}

// Cameras linked to an SOS now, with their health; their pre-roll frames, fetched with the officer's credential.
function cameraSection(sos, api) {
  const linked = (sos.cameras || []).filter((c) => !c.left_at);
  const frames = h("div", { class: "evidence camera-evidence" });
  if (api && linked.length) {
    api.get(`/api/sos/${sos.id}/camera-evidence/`).then((rows) => {
      for (const row of rows) {
        const img = h("img", { alt: `Camera ${row.camera_id} before the SOS`, "data-evidence-id": String(row.id) });
        api.blobUrl(row.image).then((src) => { img.src = src; }).catch(() => { img.alt = "Frame could not be loaded"; });
        frames.append(h("figure", { style: "margin:0" }, img,
          h("figcaption", { class: "muted small" }, `${row.camera_id} · ${row.captured_at ? clock(row.captured_at) : ""}`)));
      }
    }).catch(() => {});
  }
  return [
    ...section("Cameras", linked.map((c) => h("li", { class: `camera health-${c.health}`, "data-camera-id": c.camera_id },
      `${c.name} · ${c.health} · ${c.reason}`)), "No camera covers this position."),
    frames,
  ];
}

export function sosDetail(sos, { api, units, act, close }) {
  const open = sos.is_open;
  const trail = [...sos.locations].sort((a, b) => new Date(b.recorded_at) - new Date(a.recorded_at));
  return h("div", { "data-sos-id": String(sos.id) },
    header(`SOS #${sos.id} · ${sos.name}`, sos.status, close),
    facts([
      ["Type", sos.sos_type === 1 ? "Alert" : "Emergency"],
      ["Raised", `${clock(sos.created_at)} (${ago(sos.created_at)})`],
      ["Phone", sos.phone ? h("a", { href: `tel:${sos.phone}` }, sos.phone) : null],
      ["Under duress", sos.duress_at ? h("strong", { class: "flag flag-cancelled-under-duress" }, `CANCELLED UNDER DURESS at ${clock(sos.duress_at)}: keep going`) : null],
      ["Flood", sos.suspected_flood ? "Unverified: many SOS from one source" : null],
      ["Position", sos.latitude == null
        ? h("strong", { class: "flag flag-location-pending" }, "LOCATION PENDING: call her if a phone is given")
        : `${sos.latitude.toFixed(5)}, ${sos.longitude.toFixed(5)}${sos.accuracy_m ? ` ±${Math.round(sos.accuracy_m)} m` : ""}`],
      ["Last known", sos.last_known ? `${sos.last_known.latitude.toFixed(5)}, ${sos.last_known.longitude.toFixed(5)}${sos.last_known.accuracy_m ? ` ±${Math.round(sos.last_known.accuracy_m)} m` : ""}${sos.last_known.age_s != null ? ` (${Math.round(sos.last_known.age_s / 60)} min before the SOS)` : ""}` : null],
      ["Hints", sos.device_hints && Object.keys(sos.device_hints).length ? Object.entries(sos.device_hints).map(([k, v]) => `${k}: ${v}`).join(" · ") : null],
      ["Last fix", ago(sos.last_located_at)],
    ]),
    open && sos.status === "active" && h("div", { class: "actions" },
      h("button", { type: "button", class: "primary", onclick: () => act(`/api/sos/${sos.id}/acknowledge/`) }, "Acknowledge")),
    open && assignForm(units, (unit_number, officer_name) => act("/api/assign-officer/", { sos_request: sos.id, officer_name, unit_number })),
    open && resolveForm(false, (note) => act(`/api/resolve-sos/${sos.id}/`, { note })),
    ...cameraSection(sos, api),
    ...section("Assignments", sos.assignments.map((a) =>
      h("li", { class: "assignment" }, `${a.officer_name} · unit ${a.unit_number} · ${clock(a.assigned_at)}`)), "No unit assigned yet."),
    h("h4", {}, "Photos"),
    (sos.images || []).length ? h("div", { class: "evidence" }, sosPhotos(sos, api)) : h("p", { class: "muted small" }, "No photos."),
    ...section("Trail", trail.slice(0, 20).map((p) =>
      h("li", {}, `${clock(p.recorded_at)} · ${p.latitude.toFixed(5)}, ${p.longitude.toFixed(5)}${p.accuracy_m ? ` ±${Math.round(p.accuracy_m)} m` : ""}`)),
    "No points."),
    ...section("Timeline", sos.audit_trail.map((e) =>
      h("li", {}, `${clock(e.created_at)} · ${e.action} by ${e.by}${e.details && e.details.unit_number ? ` (unit ${e.details.unit_number})` : ""}`)), "Nothing yet."));
}

export function incidentDetail(incident, { api, units, act, close }) {
  const id = incident.id;
  const status = incident.status;
  const open = status !== "RESOLVED";
  const beacon = incident.beacon || {};
  const images = (incident.images || []).map((image) => {
    const img = h("img", { alt: image.description || `Evidence of incident ${id}`, "data-image-id": String(image.id) });
    // The link needs the officer's credential (or is a signed URL): fetched, then shown from memory.
    api.blobUrl(image.image).then((src) => { img.src = src; }).catch(() => { img.alt = "Evidence could not be loaded"; });
    return h("figure", { style: "margin:0" }, img, h("figcaption", { class: "muted small" }, clock(image.uploaded_at)));
  });
  const clips = (incident.audio || []).map((clip) => {
    const player = h("audio", { controls: "", preload: "metadata", "data-audio-id": String(clip.id) });
    // Like the images: the clip needs the officer's credential, so it is fetched and played from memory.
    api.blobUrl(clip.audio).then((src) => { player.src = src; }).catch(() => { player.title = "Audio could not be loaded"; });
    return h("figure", { style: "margin:0" }, player,
      h("figcaption", { class: "muted small" }, `${clock(clip.uploaded_at)} · ${clip.duration_s.toFixed(1)} s`));
  });
  return h("div", { "data-incident-id": id },
    header(`${incident.kind} at ${beacon.name || beacon.beacon_id}`, status.toLowerCase(), close),
    facts([
      ["Priority", incident.priority],
      ["Place", [beacon.name, beacon.building, beacon.floor && `floor ${beacon.floor}`].filter(Boolean).join(", ")],
      ["Opened", `${clock(incident.created_at)} (${ago(incident.created_at)})`],
      ["Signals", incident.signal_count],
      ["Assigned to", incident.assigned_to],
      ["What was seen", incident.description],
    ]),
    open && h("div", { class: "actions" },
      status === "CREATED" && h("button", { type: "button", class: "primary", onclick: () => act(`/api/incidents/${id}/acknowledge/`) }, "Acknowledge"),
      status === "ASSIGNED" && h("button", { type: "button", onclick: () => act(`/api/incidents/${id}/start/`) }, "Mark in progress")),
    open && officerForm(units, (officer) => act(`/api/incidents/${id}/assign/`, { officer })),
    open && resolveForm(true, (note) => act(`/api/incidents/${id}/resolve/`, { resolution_note: note })),
    h("h4", {}, "Evidence"),
    images.length ? h("div", { class: "evidence" }, images) : h("p", { class: "muted small" }, "No images."),
    clips.length ? h("div", { class: "evidence-audio" }, clips) : null,
    ...section("Signals", (incident.signals || []).map((sig) =>
      h("li", {}, `${clock(sig.received_at)} · ${sig.signal_type.toLowerCase().replace(/_/g, " ")}${sig.confidence_score != null ? ` ${Math.round(sig.confidence_score * 100)}%` : ""}${sig.device_id ? ` · ${sig.device_id}` : ""}`)),
    "No signals."),
    ...section("Timeline", (incident.timeline || []).map((e) =>
      h("li", {}, `${clock(e.created_at)} · ${e.action.replace(/_/g, " ")} by ${e.by}`)), "Nothing yet."));
}
