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

export function sosDetail(sos, { units, act, close }) {
  const open = ["active", "acknowledged", "dispatched"].includes(sos.status);
  const actions = open ? h("div", { class: "actions" },
    sos.status === "active" && h("button", { type: "button", onclick: () => act(`/api/sos/${sos.id}/acknowledge/`) }, "Acknowledge"),
    h("button", { type: "button", onclick: () => act(`/api/resolve-sos/${sos.id}/`) }, "Resolve")) : null;
  const trail = [...sos.locations].sort((a, b) => new Date(b.recorded_at) - new Date(a.recorded_at));
  return h("div", { "data-sos-id": String(sos.id) },
    header(`SOS #${sos.id} · ${sos.name}`, sos.status, close),
    facts([
      ["Type", sos.sos_type === 1 ? "Alert" : "Emergency"],
      ["Raised", `${clock(sos.created_at)} (${ago(sos.created_at)})`],
      ["Phone", sos.phone ? h("a", { href: `tel:${sos.phone}` }, sos.phone) : null],
      ["Position", `${sos.latitude.toFixed(5)}, ${sos.longitude.toFixed(5)}${sos.accuracy_m ? ` ±${Math.round(sos.accuracy_m)} m` : ""}`],
      ["Last fix", ago(sos.last_located_at)],
    ]),
    actions,
    open && assignForm(units, (unit_number, officer_name) => act("/api/assign-officer/", { sos_request: sos.id, officer_name, unit_number })),
    ...section("Assignments", sos.assignments.map((a) =>
      h("li", { class: "assignment" }, `${a.officer_name} · unit ${a.unit_number} · ${clock(a.assigned_at)}`)), "No unit assigned yet."),
    ...section("Trail", trail.slice(0, 20).map((p) =>
      h("li", {}, `${clock(p.recorded_at)} · ${p.latitude.toFixed(5)}, ${p.longitude.toFixed(5)}`)), "No points."),
    ...section("Timeline", sos.audit_trail.map((e) =>
      h("li", {}, `${clock(e.created_at)} · ${e.action} by ${e.by}${e.details && e.details.unit_number ? ` (unit ${e.details.unit_number})` : ""}`)), "Nothing yet."));
}

export function incidentDetail(incident, { api, units, act, close }) {
  const id = incident.id;
  const open = !["resolved", "dismissed", "closed"].includes(incident.status);
  const images = (incident.images || []).map((image) => {
    const img = h("img", { alt: `Evidence ${image.id ?? ""} of incident #${id}`, loading: "lazy" });
    const url = image.url || image.download_url || image.signed_url;
    if (url) api.blobUrl(url).then((src) => { img.src = src; }).catch(() => { img.alt = "Evidence could not be loaded"; });
    return h("figure", { style: "margin:0" }, img, h("figcaption", { class: "muted small" }, clock(image.captured_at || image.created_at)));
  });
  return h("div", { "data-incident-id": String(id) },
    header(`Incident #${id} · ${incident.label || incident.title || "Incident"}`, incident.status, close),
    facts([
      ["Priority", incident.priority],
      ["Beacon", incident.beacon && (incident.beacon.name || incident.beacon.code || incident.beacon.id)],
      ["Opened", `${clock(incident.created_at)} (${ago(incident.created_at)})`],
    ]),
    open && h("div", { class: "actions" },
      incident.status === "open" && h("button", { type: "button", onclick: () => act(`/api/incidents/${id}/acknowledge/`) }, "Acknowledge"),
      h("button", { type: "button", onclick: () => act(`/api/incidents/${id}/resolve/`) }, "Resolve")),
    open && assignForm(units, (unit_number, officer_name) => act(`/api/incidents/${id}/assign/`, { unit_number, officer_name })),
    h("h4", {}, "Evidence"),
    images.length ? h("div", { class: "evidence" }, images) : h("p", { class: "muted small" }, "No images."),
    ...section("Signals", (incident.signals || []).map((s) =>
      h("li", {}, `${clock(s.created_at || s.detected_at)} · ${s.kind || s.label || "signal"}${s.confidence != null ? ` ${Math.round(s.confidence * 100)}%` : ""}`)), "No signals."),
    ...section("Timeline", (incident.timeline || []).map((e) =>
      h("li", {}, `${clock(e.created_at || e.at)} · ${e.action || e.event} by ${e.by || e.actor || "system"}`)), "Nothing yet."));
}
