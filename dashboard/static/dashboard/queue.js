// The triage queue: one list of everything open (SOS alerts and incidents), most urgent first. Rows are kept by key
// and patched in place; a row moves only when its place changes, so focus and clicks survive live updates.

import { clockShort, h } from "./dom.js";
import { fmt, gettext, inStatus, statusWord, waitStep } from "./words.js";

// The triage order (the same rule as console/selectors.py, plus "new"): the highest escalation level first, then
// alerts nobody has looked at yet, then unacknowledged before acknowledged, then the longest waiting.
export function triageCompare(a, b) {
  return (b.level || 0) - (a.level || 0)
    || Number(!a.fresh) - Number(!b.fresh)
    || Number(!a.needs_ack) - Number(!b.needs_ack)
    || new Date(a.waiting_since) - new Date(b.waiting_since);
}

function flags(item) {
  const out = [];
  if (item.duress_at) out.push(h("span", { class: "flag flag-cancelled-under-duress" }, gettext("CANCELLED UNDER DURESS")));
  if (item.location_pending) out.push(h("span", { class: "flag flag-location-pending" }, gettext("LOCATION PENDING: phone her")));
  if (item.fresh) out.push(h("span", { class: "flag flag-new" }, gettext("NEW")));
  return out;
}

function subText(item) {
  if (item.kind === "incident") {
    return [statusWord(item.status), fmt(gettext("%(n)s signals"), { n: item.signal_count }), fmt(gettext("opened %(time)s"), { time: clockShort(item.created_at) })]
      .join(" · ");
  }
  const units = (item.assignments || []).map((a) => a.unit_number);
  return [item.sos_type === 1 ? gettext("Alert") : gettext("Emergency"), item.phone,
    units.length ? fmt(gettext("units %(units)s"), { units: units.join(", ") }) : null,
    fmt(gettext("raised %(time)s"), { time: clockShort(item.created_at) })].filter(Boolean).join(" · ");
}

export function createQueue(list, { onSelect, onFocusRow, waitSteps }) {
  const rows = new Map(); // key → li
  const items = new Map(); // key → item
  let filter = () => true;
  let selectedKey = null;
  const empty = h("li", { class: "empty" }, gettext("No open alerts."));
  list.replaceChildren(empty); // the template's own placeholder, replaced by the one this queue manages

  function paint(li, item) {
    const level = Math.min(item.level || 0, 3);
    li.className = ["queue-row", `kind-${item.kind}`, item.key === selectedKey && "selected", item.fresh && "fresh",
      level && `escalated escalation-${level}`, item.duress_at && "duress", item.location_pending && "pending"]
      .filter(Boolean).join(" ");
    li.dataset.level = String(item.level || 0);
    li.dataset.status = String(item.status).toLowerCase();
    const since = item.status_since || item.waiting_since;
    const step = waitStep(since, item.needs_ack ? waitSteps.unacknowledged : waitSteps.acknowledged);
    const statusClass = `status-${String(item.status).toLowerCase()}`;
    li.replaceChildren(
      ...flags(item),
      h("span", { class: `dot ${item.kind === "incident" ? "kind-incident" : statusClass}`, "aria-hidden": "true" }),
      h("span", { class: "title" }, item.title),
      h("span", { class: "badges" },
        level ? h("span", { class: `badge level level-${level}`, title: item.level_label || "" }, `L${item.level}`) : null,
        item.kind === "incident" ? h("span", { class: `badge priority-${String(item.priority).toLowerCase()}` }, item.priority) : null,
        h("span", { class: `badge ${statusClass}` }, statusWord(item.status))),
      h("span", { class: "sub" }, subText(item)),
      clockOf(li, h("span", { class: `in-status wait-${step}`, dataset: { since, step: String(step), ack: item.needs_ack ? "no" : "yes" } },
        h("span", { class: "time" }, inStatus(since)), " ", gettext("in status"))),
    );
    li.hidden = !filter(item);
  }

  // Time in status counts live, but only where it is seen: two hundred clocks rewritten every second cost the
  // page a relayout of the whole list each second. Rows in sight are kept in `inSight` (an IntersectionObserver,
  // which also sees the sidebar's scroll and hidden rows); a row coming into sight is brought up to date at once.
  const clocks = new WeakMap(); // li → its .in-status element
  const inSight = new Set();
  const sight = typeof IntersectionObserver === "function" ? new IntersectionObserver((entries) => {
    const now = Date.now();
    for (const entry of entries) {
      if (entry.isIntersecting) {
        inSight.add(entry.target);
        updateClock(entry.target, now);
      } else {
        inSight.delete(entry.target);
      }
    }
  }) : null;

  function clockOf(li, el) {
    clocks.set(li, el);
    return el;
  }

  // Writes only what changed: the text once a second under an hour (once a minute above), the colour at a step.
  function updateClock(li, now) {
    const el = clocks.get(li);
    if (!el) return;
    const time = el.firstChild;
    const text = inStatus(el.dataset.since, now);
    if (time.textContent !== text) time.textContent = text;
    const steps = el.dataset.ack === "no" ? waitSteps.unacknowledged : waitSteps.acknowledged;
    const step = String(waitStep(el.dataset.since, steps, now));
    if (el.dataset.step !== step) {
      el.dataset.step = step;
      el.className = `in-status wait-${step}`;
    }
  }

  function create(item) {
    const li = h("li", {
      id: `row-${item.kind}-${item.id}`, tabindex: "-1", dataset: { kind: item.kind, id: String(item.id), key: item.key },
      onclick: () => onSelect(item.kind, items.get(item.key).id),
      onkeydown: (e) => e.key === "Enter" && onSelect(item.kind, items.get(item.key).id),
      onfocus: () => onFocusRow(item.kind, items.get(item.key).id, true),
      onblur: () => onFocusRow(item.kind, items.get(item.key).id, false),
    });
    rows.set(item.key, li);
    sight?.observe(li);
    return li;
  }

  function visibleRows() {
    return [...list.children].filter((li) => li.dataset.key && !li.hidden);
  }

  // The one tab stop of the list: the selected row, else the first (roving tab index; j/k and arrows move).
  function rovingTabStop() {
    const visible = visibleRows();
    const stop = visible.find((li) => li.classList.contains("selected")) || visible[0];
    for (const li of rows.values()) li.tabIndex = li === stop ? 0 : -1;
  }

  function order() {
    const sorted = [...items.values()].sort(triageCompare);
    const focused = document.activeElement;
    if (!sorted.length) {
      list.replaceChildren(empty);
      return;
    }
    if (empty.parentNode) empty.remove();
    sorted.forEach((item, index) => {
      const li = rows.get(item.key);
      if (list.children[index] !== li) list.insertBefore(li, list.children[index] || null);
    });
    // Moving a focused row takes the focus away in some browsers: give it back, without scrolling.
    if (focused && focused !== document.activeElement && list.contains(focused)) focused.focus({ preventScroll: true });
  }

  return {
    items,
    rows,
    has: (key) => items.has(key),
    get: (key) => items.get(key),
    // Add or patch one alert; `reorder` is false when nothing that sorts it changed (a trail point, a phone).
    // `batch`: one of many (a snapshot): placed at the end now, sorted once by `reorder()` afterwards.
    upsert(item, { reorder = true, batch = false } = {}) {
      const known = items.get(item.key);
      items.set(item.key, item);
      const li = rows.get(item.key) || create(item);
      paint(li, item);
      if (batch) {
        if (empty.parentNode) empty.remove();
        if (!li.parentNode) list.append(li);
        return li;
      }
      if (!known || reorder) order();
      rovingTabStop();
      return li;
    },
    reorder() {
      order();
      rovingTabStop();
    },
    remove(key) {
      items.delete(key);
      const li = rows.get(key);
      if (li) {
        li.remove();
        sight?.unobserve(li);
        inSight.delete(li);
      }
      rows.delete(key);
      if (!items.size) list.replaceChildren(empty);
      rovingTabStop();
    },
    repaint(key) {
      const item = items.get(key);
      if (item) paint(rows.get(key), item);
    },
    setFilter(fn) {
      filter = fn;
      for (const [key, li] of rows) li.hidden = !filter(items.get(key));
      rovingTabStop();
    },
    visibleRows,
    // Time in status counts live: only the clocks of the rows in sight (all rows where the browser cannot tell).
    tick(now = Date.now()) {
      for (const li of sight ? inSight : rows.values()) updateClock(li, now);
    },
    rovingTabStop,
    markSelected(key) {
      rows.get(selectedKey)?.classList.remove("selected");
      selectedKey = key;
      rows.get(key)?.classList.add("selected");
      rovingTabStop();
    },
  };
}
