// The official JavaScript socket.io-client (what the mobile app and the dashboard use) against the realtime server:
// refused and accepted connects, joins, live events, a drop and a resume with last_event_id. Run by
// tests/test_realtime_js.py, which starts the servers and passes their addresses and tokens in the environment.
import assert from "node:assert/strict";
import { io } from "socket.io-client";

const { RT_URL, API_URL, DISPATCHER_TOKEN, CITIZEN_TOKEN } = process.env;
const TIMEOUT_MS = 10000;
const results = {};
const sockets = [];

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function connect(options) {
  const socket = io(RT_URL, { reconnection: false, ...options });
  sockets.push(socket);
  return socket;
}

function next(socket, event) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
    socket.once(event, (message) => {
      clearTimeout(timer);
      resolve(message);
    });
  });
}

async function until(condition, what) {
  const deadline = Date.now() + TIMEOUT_MS;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

async function raiseSos(name) {
  const response = await fetch(`${API_URL}/api/create-sos/`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ name, sos_type: 0, initial_latitude: 12.97, initial_longitude: 77.59 }),
  });
  assert.equal(response.status, 201);
  return response.json();
}

async function main() {
  // A connect without credentials is refused, with the reason.
  const anonymous = connect({ auth: {} });
  results.refused = (await next(anonymous, "connect_error")).message;
  assert.match(results.refused, /Authentication required/);

  // The dashboard pattern: the auth callback sends the highest event_id seen; every (re)connect joins again.
  let lastEventId = null;
  const newSos = [];
  const dashboard = connect({
    auth: (send) => send({ token: DISPATCHER_TOKEN, ...(lastEventId !== null && { last_event_id: lastEventId }) }),
  });
  const remember = (message) => {
    if (Number.isInteger(message?.event_id)) lastEventId = Math.max(lastEventId ?? 0, message.event_id);
  };
  for (const event of ["connection_established", "rooms_joined", "new_sos", "resync_required"]) {
    dashboard.on(event, remember);
  }
  dashboard.on("new_sos", (message) => newSos.push(message));
  // Every room in one join: one answer, then one stream in id order.
  dashboard.on("connect", () => dashboard.emit("join", { rooms: [{ type: "sos_channel" }, { type: "incidents_channel" }] }));
  const joined = await next(dashboard, "rooms_joined");
  assert.deepEqual(joined.joined.map((room) => room.channel), ["sos_channel", "incidents_channel"]);
  assert.deepEqual(joined.refused, []);

  const live = await raiseSos("js live");
  await until(() => newSos.some((m) => m.sos_id === live.sos_id), "the live new_sos");
  const liveMessage = newSos.find((m) => m.sos_id === live.sos_id);
  assert.equal(liveMessage.room_id, live.room_id);
  assert.ok(Number.isInteger(liveMessage.event_id));
  results.transport = dashboard.io.engine.transport.name;

  // Drop the connection, raise alerts meanwhile, come back: the missed ones arrive first, once, in order.
  dashboard.disconnect();
  const missed = [await raiseSos("js missed 1"), await raiseSos("js missed 2")];
  dashboard.connect();
  await until(() => missed.every((s) => newSos.some((m) => m.sos_id === s.sos_id)), "the missed new_sos");
  const after = await raiseSos("js after");
  await until(() => newSos.some((m) => m.sos_id === after.sos_id), "the new_sos after the resume");
  await sleep(300);
  results.names = newSos.map((m) => m.name);
  assert.deepEqual(results.names, ["js live", "js missed 1", "js missed 2", "js after"]);
  const ids = newSos.map((m) => m.event_id);
  assert.ok(ids.every((id, i) => i === 0 || id > ids[i - 1]), `event ids not increasing: ${ids}`);

  // A citizen on long-polling only: connected, but refused the police channel.
  const citizen = connect({ auth: { token: CITIZEN_TOKEN }, transports: ["polling"] });
  await next(citizen, "connect");
  citizen.emit("join_sos_channel", {});
  results.citizenRefused = (await next(citizen, "error")).message;
  assert.match(results.citizenRefused, /Only officers/);

  // The SOS owner with its access token: its own room, starting with the trail.
  const owner = connect({ auth: { sos_token: live.access_token }, transports: ["websocket"] });
  await next(owner, "connect");
  // Both listeners before the join: the answer and the trail can arrive in one read, and a listener added
  // after awaiting the first would miss the second.
  const ownerJoined = next(owner, "room_joined");
  const trailSent = next(owner, "location_history");
  owner.emit("join_sos_room", { room_id: live.room_id });
  assert.equal((await ownerJoined).room_id, live.room_id);
  const trail = await trailSent;
  assert.equal(trail.sos_id, undefined);
  results.trailPoints = trail.updates.length;
}

try {
  await main();
  console.log(JSON.stringify({ ok: true, ...results }));
} catch (error) {
  console.log(JSON.stringify({ ok: false, error: String(error?.stack ?? error), ...results }));
  process.exitCode = 1;
} finally {
  for (const socket of sockets) socket.close();
  // fetch() keeps its connection to the API server alive for reuse; nothing else is pending.
  process.exit();
}
