// What the console says, in plain words and translatable: times in status, who acted, the timeline.
// Every message is a literal inside a gettext call, so that `makemessages -d djangojs` finds it.

export const gettext = window.gettext || ((text) => text);
export const ngettext = window.ngettext || ((one, many, n) => (n === 1 ? one : many));

export function fmt(template, values) {
  return template.replace(/%\((\w+)\)s/g, (_, name) => (values[name] ?? ""));
}

// Time in a status: mm:ss under an hour ("04:05"), then hours and minutes ("1h 07m").
export function inStatus(iso, now = Date.now()) {
  if (!iso) return "";
  const total = Math.max(0, Math.floor((now - new Date(iso).getTime()) / 1000));
  const pad = (n) => String(n).padStart(2, "0");
  const hours = Math.floor(total / 3600);
  if (hours) return `${hours}h ${pad(Math.floor(total / 60) % 60)}m`;
  return `${pad(Math.floor(total / 60))}:${pad(total % 60)}`;
}

// The colour step of a wait: 0 below the ladder's first step, then 1, 2, 3 (the escalation levels' colours).
export function waitStep(iso, steps, now = Date.now()) {
  if (!iso) return 0;
  const seconds = (now - new Date(iso).getTime()) / 1000;
  return steps.filter((after) => seconds >= after).length;
}

const ROLES = { dispatcher: gettext("dispatcher"), officer: gettext("officer"), admin: gettext("admin") };

// "dispatcher:meera" → "meera (dispatcher)"; the citizen's token → "the citizen"; devices and the system by name.
export function who(label) {
  if (!label || label === "sos-owner-token" || label === "anonymous") return gettext("the citizen");
  const [role, name] = label.split(":");
  if (name && ROLES[role]) return `${name} (${ROLES[role]})`;
  if (role === "system") return gettext("the system");
  if (role === "device") return fmt(gettext("device %(name)s"), { name: name || label });
  return label;
}

const STATUS_WORDS = {
  active: gettext("active"), acknowledged: gettext("acknowledged"), dispatched: gettext("dispatched"),
  on_scene: gettext("on scene"), resolved: gettext("resolved"), cancelled: gettext("cancelled"),
  created: gettext("new"), assigned: gettext("assigned"), in_progress: gettext("in progress"),
  available: gettext("available"), en_route: gettext("en route"), off_duty: gettext("off duty"),
};

export function statusWord(status) {
  const key = String(status || "").toLowerCase();
  return STATUS_WORDS[key] || key.replace(/_/g, " ");
}

// One entry of an SOS's or an incident's audit trail as a sentence.
export function timelineSentence(entry) {
  const by = who(entry.by);
  const d = entry.details || {};
  const note = d.note ? `: “${d.note}”` : "";
  switch (entry.action) {
    case "created":
      return entry.by && entry.by.startsWith("device") ? fmt(gettext("Opened by %(by)s"), { by })
        : fmt(gettext("Raised by %(by)s"), { by });
    case "acknowledged": return fmt(gettext("Acknowledged by %(by)s"), { by });
    case "assigned":
      return d.unit_number
        ? fmt(gettext("Unit %(unit)s sent (%(officer)s) by %(by)s"), { unit: d.unit_number, officer: d.officer_name || "", by })
        : fmt(gettext("Assigned by %(by)s"), { by });
    case "unassigned": return fmt(gettext("Unit %(unit)s taken off by %(by)s"), { unit: d.unit_number || "", by }) + note;
    case "on_scene": return d.unit_number ? fmt(gettext("Unit %(unit)s on scene"), { unit: d.unit_number }) : gettext("A unit is on scene");
    case "started": return fmt(gettext("Work started by %(by)s"), { by });
    case "located": return gettext("Her first location arrived");
    case "resolved": return fmt(gettext("Resolved by %(by)s"), { by }) + note;
    case "cancelled": return fmt(gettext("Cancelled by %(by)s"), { by }) + note;
    case "cancelled_on_behalf": return fmt(gettext("Cancelled for the citizen by %(by)s"), { by }) + note;
    case "cancelled_under_duress": return gettext("Cancelled UNDER DURESS by the citizen: the SOS stays open");
    case "cancel_after_duress": return gettext("Another cancel after the duress PIN (ignored)");
    case "escalated": return fmt(gettext("Escalated to level %(level)s"), { level: d.level ?? "" });
    case "images_added": return fmt(gettext("Photos added by %(by)s"), { by });
    case "pin_set": return gettext("The citizen set a cancel PIN");
    case "wrong_pin": return gettext("A wrong cancel PIN was entered");
    case "signal_added": return fmt(gettext("Another signal from %(by)s"), { by });
    case "priority_raised": return fmt(gettext("Priority raised to %(priority)s"), { priority: d.to_priority || "" });
    default: return `${String(entry.action).replace(/_/g, " ")} · ${by}`;
  }
}
