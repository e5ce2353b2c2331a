// Tiny DOM helpers: build elements from data without innerHTML, so names typed by citizens stay text.

import { fmt, gettext } from "./words.js";

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

// "12s ago", "5m ago", "3h ago", "2d ago", in the page's language.
export function ago(iso) {
  if (!iso) return "";
  const seconds = Math.max(0, Math.round((Date.now() - new Date(iso).getTime()) / 1000));
  const [template, count] = seconds < 60 ? [gettext("%(count)ss ago"), seconds]
    : seconds < 3600 ? [gettext("%(count)sm ago"), Math.floor(seconds / 60)]
      : seconds < 86400 ? [gettext("%(count)sh ago"), Math.floor(seconds / 3600)]
        : [gettext("%(count)sd ago"), Math.floor(seconds / 86400)];
  return fmt(template, { count });
}

export function clock(iso) {
  return iso ? new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" }) : "";
}

// Hours and minutes in the dispatcher's locale ("08:34 PM", "20:34"): what a row's "raised at" needs.
export function clockShort(iso) {
  return iso ? new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : "";
}

// How long since `iso`, to the second under an hour ("4m 05s") and to the minute above ("1h 07m").
export function elapsed(iso) {
  if (!iso) return "";
  const total = Math.max(0, Math.floor((Date.now() - new Date(iso).getTime()) / 1000));
  const [hours, minutes, seconds] = [Math.floor(total / 3600), Math.floor(total / 60) % 60, total % 60];
  const pad = (n) => String(n).padStart(2, "0");
  if (hours) return `${hours}h ${pad(minutes)}m`;
  return minutes ? `${minutes}m ${pad(seconds)}s` : `${seconds}s`;
}
