// The audible alert: a short two-tone beep from WebAudio (no sound file), repeated while anything waits for an
// acknowledgement, with a 60 s mute; and a system notification when the tab is hidden.

let context = null;
let mutedUntil = 0;
let repeater = null;

function audioContext() {
  if (!context) {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return null;
    context = new Context();
  }
  return context;
}

// Browsers keep audio suspended until the user interacts with the page; say so instead of failing quietly.
export function soundBlocked() {
  const ctx = audioContext();
  return !ctx || ctx.state !== "running";
}

export async function enableSound() {
  const ctx = audioContext();
  if (ctx && ctx.state !== "running") await ctx.resume();
  return !soundBlocked();
}

export function muted(now = Date.now()) {
  return now < mutedUntil;
}

export function mute(seconds = 60) {
  mutedUntil = Date.now() + seconds * 1000;
  return mutedUntil;
}

export function unmute() {
  mutedUntil = 0;
}

export function beep() {
  const ctx = audioContext();
  if (!ctx || ctx.state !== "running" || muted()) return false;
  // Counted where a person (or a test) can check that the alarm really sounded.
  document.body.dataset.beeps = String(Number(document.body.dataset.beeps || 0) + 1);
  [880, 660, 880].forEach((frequency, i) => {
    const start = ctx.currentTime + i * 0.18;
    const gain = ctx.createGain();
    gain.gain.setValueAtTime(0.0001, start);
    gain.gain.exponentialRampToValueAtTime(0.25, start + 0.01);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.16);
    gain.connect(ctx.destination);
    const osc = ctx.createOscillator();
    osc.type = "square";
    osc.frequency.value = frequency;
    osc.connect(gain);
    osc.start(start);
    osc.stop(start + 0.17);
  });
  return true;
}

// Beep every `everyMs` while `pending()` says something is unacknowledged (and the alarm is not muted).
export function startRepeating(pending, everyMs = 10000) {
  if (repeater) clearInterval(repeater);
  repeater = setInterval(() => {
    if (pending()) beep();
  }, everyMs);
}

export async function askForNotifications() {
  if (!("Notification" in window) || Notification.permission !== "default") return window.Notification?.permission || "unsupported";
  try {
    return await Notification.requestPermission();
  } catch {
    return "denied";
  }
}

// A system notification only when the dispatcher is looking elsewhere: the page shows everything otherwise.
export function notify(title, body, onClick) {
  if (!document.hidden || !("Notification" in window) || Notification.permission !== "granted") return null;
  const note = new Notification(title, { body, tag: "naarikavach-alert", renotify: true, requireInteraction: true });
  note.onclick = () => {
    window.focus();
    onClick?.();
    note.close();
  };
  document.body.dataset.notifications = String(Number(document.body.dataset.notifications || 0) + 1);
  return note;
}
