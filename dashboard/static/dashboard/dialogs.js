// Modal dialogs of the console (native <dialog>: focus is trapped and Escape closes): a confirmation with a
// note, the evidence viewer, and the closed-alert history.

import { clockShort, h } from "./dom.js";
import { fmt, gettext, who } from "./words.js";

// Ask before an action that cannot be undone; resolves to the note typed (trimmed), or null when cancelled.
export function confirmWithNote({ title, message, confirmLabel, noteLabel, required = true, danger = true }) {
  return new Promise((resolve) => {
    const note = h("textarea", { name: "confirm_note", id: "confirm-note", rows: "3", required, maxlength: "1000" });
    const ok = h("button", { type: "submit", class: danger ? "danger" : "primary", value: "ok", disabled: required }, confirmLabel);
    note.addEventListener("input", () => { ok.disabled = required && !note.value.trim(); });
    const dialog = h("dialog", { class: "confirm", id: "confirm-dialog", "aria-labelledby": "confirm-title" },
      h("form", { method: "dialog" },
        h("h2", { id: "confirm-title" }, title),
        h("p", {}, message),
        h("label", { for: "confirm-note" }, noteLabel || (required ? gettext("Note (required)") : gettext("Note (optional)"))),
        note,
        h("div", { class: "actions" },
          h("button", { type: "button", value: "cancel", onclick: () => dialog.close("cancel") }, gettext("Go back")), ok)));
    dialog.addEventListener("close", () => {
      const value = dialog.returnValue === "ok" && (!required || note.value.trim()) ? note.value.trim() : null;
      dialog.remove();
      resolve(value);
    });
    document.body.append(dialog);
    dialog.showModal();
    note.focus();
  });
}

// Evidence full size, with next and previous, its SHA-256 and time. `items`: [{src (promise), alt, sha256, caption}].
export function openViewer(items, start = 0) {
  let index = start;
  const img = h("img", { alt: "" });
  const caption = h("p", { class: "small" });
  const hash = h("code", { class: "sha256" });
  const position = h("span", { class: "muted small" });
  const show = async () => {
    const item = items[index];
    img.alt = item.alt;
    img.removeAttribute("src");
    caption.textContent = item.caption || "";
    hash.textContent = item.sha256 ? `SHA-256 ${item.sha256}` : gettext("No SHA-256 recorded");
    position.textContent = fmt(gettext("%(n)s of %(total)s"), { n: index + 1, total: items.length });
    img.src = await item.src;
  };
  const step = (by) => {
    index = (index + by + items.length) % items.length;
    show();
  };
  const dialog = h("dialog", { class: "viewer", id: "viewer", "aria-label": gettext("Evidence viewer") },
    h("div", { class: "viewer-bar" },
      h("button", { type: "button", onclick: () => step(-1), disabled: items.length < 2 }, gettext("Previous")),
      position,
      h("button", { type: "button", onclick: () => step(1), disabled: items.length < 2 }, gettext("Next")),
      h("button", { type: "button", class: "quiet", onclick: () => dialog.close() }, gettext("Close"))),
    img, caption, hash);
  dialog.addEventListener("keydown", (e) => {
    if (e.key === "ArrowRight") step(1);
    if (e.key === "ArrowLeft") step(-1);
  });
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  show();
}

const HOW = {
  resolved: gettext("Resolved"), cancelled: gettext("Cancelled by the citizen"),
  cancelled_on_behalf: gettext("Cancelled for the citizen"),
};

export function closedTitle(item) {
  if (item.kind === "sos") return `SOS #${item.sos.id} · ${item.sos.name}`;
  const beacon = item.incident.beacon || {};
  return `${item.incident.kind} · ${beacon.name || beacon.beacon_id}`;
}

export function closedSentence(item) {
  if (item.how === "cancelled") return HOW.cancelled;
  return `${HOW[item.how] || item.how} ${item.closed_by ? fmt(gettext("by %(by)s"), { by: who(item.closed_by) }) : ""}`.trim();
}

function choice(id, name, options, value) {
  const select = h("select", { name, id }, options.map(([v, label]) => h("option", { value: v }, label)));
  select.value = value;
  return select;
}

// The history of closed alerts: filtered (kind, text, how it closed, priority, unit) and paginated by the server;
// it opens with the queue's kind, text, priority and unit.
// The console's area filter as the history API's parameters: a radius (lat, lng, km) or a polygon (area).
function areaParams(area) {
  if (!area) return {};
  const at = (n) => Number(n).toFixed(6);
  if (area.points) return { area: area.points.map(([lat, lng]) => `${at(lat)},${at(lng)}`).join(";") };
  return { lat: at(area.centre[0]), lng: at(area.centre[1]), km: area.km };
}

export function openHistory(api, { kind = "", q = "", priority = "", unit = "", units = [], area = null } = {}) {
  let page = 1;
  const body = h("tbody");
  const status = h("p", { class: "muted small", role: "status" });
  // Which area the history is narrowed to (the queue's), and what an area cannot show.
  const areaNote = h("p", { class: "muted small", id: "history-area" });
  const search = h("input", { type: "search", name: "history_q", id: "history-q", value: q });
  const kindSelect = h("select", { name: "history_kind", id: "history-kind" },
    h("option", { value: "" }, gettext("All kinds")), h("option", { value: "sos" }, gettext("SOS alerts")),
    h("option", { value: "incident" }, gettext("Incidents")));
  kindSelect.value = kind;
  const statusSelect = choice("history-status", "history_status", [["", gettext("Resolved or cancelled")],
    ["resolved", gettext("Resolved")], ["cancelled", gettext("Cancelled")]], "");
  const prioritySelect = choice("history-priority", "history_priority", [["", gettext("Any priority")],
    ["critical", gettext("Critical")], ["high", gettext("High")], ["medium", gettext("Medium")], ["low", gettext("Low")]], priority);
  const unitSelect = choice("history-unit", "history_unit", [["", gettext("Any unit")], ...units.map((n) => [n, n])], unit);
  const prev = h("button", { type: "button", onclick: () => load(page - 1) }, gettext("Newer"));
  const next = h("button", { type: "button", onclick: () => load(page + 1) }, gettext("Older"));
  async function load(to) {
    page = Math.max(1, to);
    status.textContent = gettext("Loading…");
    try {
      const answer = await api.get("/api/console/history/", { page, kind: kindSelect.value, q: search.value.trim(),
        status: statusSelect.value, priority: prioritySelect.value, unit: unitSelect.value, ...areaParams(area) });
      if (area) {
        const where = area.points ? gettext("Only alerts inside the area drawn on the map.")
          : fmt(gettext("Only alerts within %(km)s km of the area's centre."), { km: area.km });
        const unplaced = answer.without_position
          ? fmt(gettext("%(count)s closed alerts never located are in no area and not listed."), { count: answer.without_position })
          : "";
        areaNote.textContent = [where, unplaced].filter(Boolean).join(" ");
      }
      body.replaceChildren(...answer.results.map((item) => h("tr", { dataset: { kind: item.kind } },
        h("td", {}, `${new Date(item.closed_at).toLocaleDateString()} ${clockShort(item.closed_at)}`),
        h("td", {}, closedTitle(item)),
        h("td", {}, closedSentence(item)),
        h("td", { class: "note" }, item.note || "—"))));
      status.textContent = fmt(gettext("Page %(page)s of %(pages)s · %(count)s closed"), answer);
      prev.disabled = page <= 1;
      next.disabled = page >= answer.pages;
    } catch (error) {
      status.textContent = error.message;
    }
  }
  const dialog = h("dialog", { class: "history", id: "history", "aria-labelledby": "history-title" },
    h("div", { class: "viewer-bar" },
      h("h2", { id: "history-title" }, gettext("History of closed alerts")),
      h("button", { type: "button", class: "quiet", onclick: () => dialog.close() }, gettext("Close"))),
    h("form", { class: "filters", onsubmit: (e) => { e.preventDefault(); load(1); } },
      h("label", { for: "history-q" }, gettext("Search")), search,
      h("label", { for: "history-kind" }, gettext("Kind")), kindSelect,
      h("label", { for: "history-status" }, gettext("Status")), statusSelect,
      h("label", { for: "history-priority" }, gettext("Priority")), prioritySelect,
      h("label", { for: "history-unit" }, gettext("Unit")), unitSelect,
      h("button", { type: "submit" }, gettext("Show"))),
    areaNote,
    h("table", {},
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, gettext("Closed")), h("th", { scope: "col" }, gettext("Alert")),
        h("th", { scope: "col" }, gettext("How and who")), h("th", { scope: "col" }, gettext("Resolution note")))),
      body),
    h("div", { class: "actions" }, prev, status, next));
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  load(1);
}

export function openHelp() {
  const keys = [
    ["j / ↓", gettext("Next alert in the queue")], ["k / ↑", gettext("Previous alert")],
    ["Enter", gettext("Open the focused alert")], ["a", gettext("Acknowledge the open alert")],
    ["d", gettext("Dispatch: choose a unit for the open alert")], ["r", gettext("Resolve the open alert (asks for a note)")],
    ["f", gettext("Follow the open SOS on the map")], ["/", gettext("Search the queue")],
    ["m", gettext("Mute the alarm for 60 s")], ["?", gettext("This help")], ["Esc", gettext("Close the panel or dialog")],
  ];
  const dialog = h("dialog", { class: "help", id: "help", "aria-labelledby": "help-title" },
    h("h2", { id: "help-title" }, gettext("Keyboard shortcuts")),
    h("dl", {}, keys.flatMap(([key, what]) => [h("dt", {}, h("kbd", {}, key)), h("dd", {}, what)])),
    h("form", { method: "dialog" }, h("button", { type: "submit", class: "primary" }, gettext("Close"))));
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
}
