// A trusted contact's live page: her SOS's status and trail, read every few seconds with the link's token.

const config = JSON.parse(document.getElementById("live-config").textContent);
const $ = (id) => document.getElementById(id);
const STATUS = {
  active: "Her SOS is active: the police have been alerted.",
  acknowledged: "The police have seen her SOS.",
  dispatched: "Help is on the way to her.",
  resolved: "The police have closed her SOS.",
  cancelled: "She cancelled her SOS.",
};

async function update() {
  const response = await fetch(config.api, { credentials: "omit", headers: { Accept: "application/json" } }).catch(() => null);
  if (!response) return;
  if (!response.ok) {
    $("live-status").textContent = "This link is no longer valid.";
    document.body.dataset.ready = "true";
    return "stop";
  }
  const view = await response.json();
  $("live-status").textContent = `${view.name}: ${STATUS[view.status] || view.status}`;
  $("live-status").dataset.status = view.status;
  const last = view.trail[view.trail.length - 1];
  $("live-where").textContent = last
    ? `Last known position ${last.latitude.toFixed(5)}, ${last.longitude.toFixed(5)} at ${new Date(last.timestamp).toLocaleTimeString()}`
    : "Her location is not known yet.";
  $("live-trail").replaceChildren(...view.trail.slice(-10).reverse().map((p) => {
    const li = document.createElement("li");
    li.textContent = `${new Date(p.timestamp).toLocaleTimeString()} · ${p.latitude.toFixed(5)}, ${p.longitude.toFixed(5)}`;
    return li;
  }));
  document.body.dataset.ready = "true";
}

async function loop() {
  if ((await update()) !== "stop") setTimeout(loop, 5000);
}
loop();
