// The response-time report for dispatch supervisors: a date range, p50/p90 and the share within target by
// source and by kind (GET /api/reports/response-times/), and a chart of the figures (uPlot, from npm).
// Every figure comes from the API; this page only lays them out.

import uPlot from "uplot";
import { apiClient } from "./api.js";
import { fmt, gettext, ngettext } from "./words.js";

const config = JSON.parse(document.getElementById("reports-config").textContent);
const api = apiClient({ Authorization: `Token ${config.token}` });

const MILESTONES = [
  ["acknowledge", gettext("Acknowledged")],
  ["dispatch", gettext("Dispatched")],
  ["on_scene", gettext("On scene")],
  ["resolve", gettext("Resolved")],
];
const SOURCES = { citizen: gettext("Citizen SOS"), camera: gettext("Camera") };
const KINDS = {
  sos_emergency: gettext("SOS emergency"), sos_alert: gettext("SOS alert"), violence: gettext("Violence"), scream: gettext("Scream"),
};
const COLOURS = ["#b3122e", "#1f5fbf", "#1d7a46", "#c77700"];
// Gridlines of the log scale at times people think in.
const TICKS = [1, 5, 10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 86400, 172800, 604800];

const form = document.getElementById("range");
const fromInput = document.getElementById("from");
const toInput = document.getElementById("to");
const status = document.getElementById("report-status");
const errorBox = document.getElementById("report-error");
let chart = null;
let latest = 0; // the newest request: an older answer arriving after it is dropped

export function formatSeconds(value) {
  if (value === null || value === undefined) return "—";
  const s = (count) => fmt(gettext("%(count)s s"), { count });
  const min = (count) => fmt(gettext("%(count)s min"), { count });
  const h = (count) => fmt(gettext("%(count)s h"), { count });
  if (value < 60) return s(Math.round(value * 10) / 10);
  const total = Math.round(value);
  if (total < 3600) {
    const seconds = total % 60;
    return [min(Math.floor(total / 60)), seconds ? s(seconds) : ""].filter(Boolean).join(" ");
  }
  const minutes = Math.floor((total % 3600) / 60);
  return [h(Math.floor(total / 3600)), minutes ? min(minutes) : ""].filter(Boolean).join(" ");
}

export function formatShare(value) {
  return value === null || value === undefined ? "—" : `${Math.round(value * 1000) / 10}%`;
}

function isoDay(date) {
  // The calendar day in the browser's zone, as the date input shows it.
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

function daysBefore(day, days) {
  const [year, month, date] = day.split("-").map(Number);
  return isoDay(new Date(year, month - 1, date - days));
}

function cell(tag, text, attributes = {}) {
  const element = document.createElement(tag);
  element.textContent = text;
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  return element;
}

function renderTable(table, groups, labels, targets) {
  table.replaceChildren();
  const head = table.createTHead();
  const top = head.insertRow();
  top.append(cell("th", "", { rowspan: "2" }), cell("th", gettext("Alerts"), { rowspan: "2" }));
  const sub = head.insertRow();
  for (const [key, label] of MILESTONES) {
    const hasTarget = targets[`${key}_seconds`] !== undefined;
    top.append(cell("th", label, { colspan: hasTarget ? "3" : "2", scope: "colgroup" }));
    sub.append(cell("th", "p50"), cell("th", "p90"));
    if (hasTarget) sub.append(cell("th", fmt(gettext("within %(time)s"), { time: formatSeconds(targets[`${key}_seconds`]) })));
  }
  const body = table.createTBody();
  const entries = Object.entries(groups);
  if (!entries.length) {
    const row = body.insertRow();
    row.append(cell("td", gettext("No alerts were raised in this period."), { colspan: "99", class: "empty" }));
    return;
  }
  for (const [group, summary] of entries) {
    const row = body.insertRow();
    row.dataset.group = group;
    row.append(cell("th", labels[group] || group, { scope: "row" }), cell("td", String(summary.alerts), { "data-cell": "alerts" }));
    for (const [key] of MILESTONES) {
      const figures = summary[key];
      row.append(
        cell("td", formatSeconds(figures.p50), { "data-cell": `${key}-p50` }),
        cell("td", formatSeconds(figures.p90), { "data-cell": `${key}-p90` }),
      );
      if (targets[`${key}_seconds`] !== undefined) {
        row.append(cell("td", formatShare(figures.within_target), { "data-cell": `${key}-within` }));
      }
    }
  }
}

function renderChart(report) {
  const element = document.getElementById("chart");
  if (chart) chart.destroy();
  const xs = MILESTONES.map((_, index) => index);
  const series = [{}];
  const data = [xs];
  Object.entries(report.by_source).forEach(([source, summary], index) => {
    const colour = COLOURS[index % COLOURS.length];
    for (const [percentile, dash] of [["p50", []], ["p90", [6, 4]]]) {
      series.push({
        label: `${SOURCES[source] || source} ${percentile}`,
        stroke: colour,
        dash,
        width: 2,
        points: { show: true, size: 7 },
        value: (u, value) => formatSeconds(value),
        spanGaps: false,
      });
      // A log scale has no zero: a step reached in under a second is drawn at one second (the tables are exact).
      data.push(MILESTONES.map(([key]) => (summary[key][percentile] === null ? null : Math.max(1, summary[key][percentile]))));
    }
  });
  chart = new uPlot({
    width: Math.max(320, element.clientWidth || 800),
    height: 320,
    scales: { x: { time: false, range: [-0.25, MILESTONES.length - 0.75] }, y: { distr: 3, log: 10 } },
    axes: [
      { splits: () => xs, values: (u, splits) => splits.map((index) => MILESTONES[index]?.[1] ?? "") },
      {
        splits: (u, axis, min, max) => TICKS.filter((tick) => tick >= min && tick <= max),
        filter: (u, splits) => splits, // every tick of ours is worth a label (uPlot thins log ticks)
        values: (u, splits) => splits.map((tick) => (tick === null ? "" : formatSeconds(tick))),
        size: 90,
      },
    ],
    series,
    legend: { live: false },
  }, data, element);
  element.dataset.series = String(series.length - 1);
}

async function load(from, to) {
  const request = ++latest;
  status.textContent = gettext("Loading…");
  errorBox.hidden = true;
  document.body.dataset.ready = "loading";
  try {
    const report = await api.get(config.api, { from, to });
    if (request !== latest) return;
    const targets = report.targets;
    const goals = MILESTONES
      .filter(([key]) => targets[`${key}_seconds`] !== undefined)
      .map(([key, label]) => fmt(gettext("%(step)s within %(time)s"), {
        step: label.toLowerCase(), time: formatSeconds(targets[`${key}_seconds`]),
      }));
    document.getElementById("targets").textContent = fmt(gettext("Targets: %(targets)s."), { targets: goals.join(", ") });
    renderTable(document.getElementById("by-source"), { ...report.by_source, ...(report.overall.alerts ? { overall: report.overall } : {}) },
      { ...SOURCES, overall: gettext("All alerts") }, targets);
    renderTable(document.getElementById("by-kind"), report.by_kind, KINDS, targets);
    renderChart(report);
    const alerts = report.overall.alerts;
    status.textContent = fmt(ngettext("%(count)s alert raised from %(from)s to %(to)s.",
      "%(count)s alerts raised from %(from)s to %(to)s.", alerts), { count: alerts, from, to });
    history.replaceState(null, "", `?${new URLSearchParams({ from, to })}`);
  } catch (error) {
    if (request !== latest) return;
    status.textContent = "";
    errorBox.textContent = error.fields
      ? Object.values(error.fields).flat().join(" ")
      : error.message || gettext("The report could not be loaded.");
    errorBox.hidden = false;
  }
  document.body.dataset.ready = "true";
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  load(fromInput.value, toInput.value);
});

for (const button of form.querySelectorAll("[data-days]")) {
  button.addEventListener("click", () => {
    toInput.value = config.today;
    fromInput.value = daysBefore(config.today, Number(button.dataset.days) - 1);
    load(fromInput.value, toInput.value);
  });
}

const query = new URLSearchParams(location.search);
toInput.value = query.get("to") || config.today;
fromInput.value = query.get("from") || daysBefore(toInput.value, 6);
load(fromInput.value, toInput.value);
