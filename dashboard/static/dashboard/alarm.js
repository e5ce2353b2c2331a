// The audible alert: a short two-tone beep from WebAudio, so no sound file is needed.

let context = null;

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

export function beep() {
  const ctx = audioContext();
  if (!ctx || ctx.state !== "running") return false;
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
