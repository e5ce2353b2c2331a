// The NaariKavach web dashboard's socket calls (naarikavach_website/src/services/socketService.js and
// components/Dashboard.jsx), made with the official socket.io-client exactly as it makes them, plus the
// socket token we require, and its handlers' logic for the messages it gets. Run by tests/test_compat_js.py.
import assert from "node:assert/strict";
import { io } from "socket.io-client";

const { RT_URL, API_URL, DISPATCHER_TOKEN, OFFICER_TOKEN } = process.env;
const TIMEOUT_MS = 10000;
const results = {};
const sockets = [];

function next(socket, event, match = () => true) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
    const handler = (message) => {
      if (!match(message)) return;
      clearTimeout(timer);
      socket.off(event, handler);
      resolve(message);
    };
    socket.on(event, handler);
  });
}

async function api(path, body, token) {
  const response = await fetch(`${API_URL}${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...(token && { Authorization: `Token ${token}` }) },
    body: JSON.stringify(body),
  });
  assert.ok(response.ok, `${path}: ${response.status}`);
  return response.json();
}

async function main() {
  // socketService.connect(): io(SOCKET_URL, {cors: {origin: "http://localhost:3000"}, transports: ['websocket', 'polling']})
  // with the one change we need: a user token in auth.
  const socket = io(RT_URL, {
    cors: { origin: "http://localhost:3000" },
    transports: ["websocket", "polling"],
    auth: { token: DISPATCHER_TOKEN },
    reconnection: false,
  });
  sockets.push(socket);
  await next(socket, "connection_established");  // sent after the connect: registered in time

  // Dashboard.jsx state and handlers: a list of SOS rows, new_sos adds one, location_history moves the row whose
  // id equals data.sos_id to (data.latitude, data.longitude).
  const rows = new Map();
  socket.on("new_sos", (data) => {
    if (!rows.has(data.sos_id)) {
      rows.set(data.sos_id, { id: data.sos_id, initial_latitude: data.latitude || 0, initial_longitude: data.longitude || 0 });
    }
  });
  socket.on("location_history", (data) => {
    for (const sos of rows.values()) {
      if (sos.id === data.sos_id) Object.assign(sos, { initial_latitude: data.latitude, initial_longitude: data.longitude });
    }
  });

  // joinSOSChannel(): this.socket.emit('join_sos_channel', {})
  const channelJoined = next(socket, "room_joined");
  socket.emit("join_sos_channel", {});
  assert.equal((await channelJoined).channel, "sos_channel");
  const arrived = next(socket, "new_sos");  // listening before the call: the event may beat its answer
  const sos = await api("/api/create-sos/", { name: "Asha", sos_type: 0, initial_latitude: 12.9716, initial_longitude: 77.5946 });
  assert.equal((await arrived).sos_id, sos.sos_id);

  // "Subscribe": joinSOSRoom(roomId): this.socket.emit('join_sos_room', { room_id: roomId })
  const trailArrives = next(socket, "location_history");
  socket.emit("join_sos_room", { room_id: sos.room_id });
  const trail = await trailArrives;
  results.trailHasSosId = "sos_id" in trail;
  // Their handler must leave the row where it was (it used to set it to undefined and crash on expand).
  assert.equal(rows.get(sos.sos_id).initial_latitude, 12.9716);

  const point = next(socket, "location_history", (m) => m.sos_id === sos.sos_id);
  await api("/api/update-location/", { sos_request: sos.sos_id, latitude: 12.98, longitude: 77.6 }, DISPATCHER_TOKEN);
  await point;
  results.movedTo = rows.get(sos.sos_id).initial_latitude;

  // "Track All Units": joinOfficerTrackingChannel(): this.socket.emit('join_officer_update', {}); onUnitLocation -> 'unit_loc'
  const trackingJoined = next(socket, "room_joined", (m) => m.channel === "officer_tracking_channel");
  socket.emit("join_officer_update", {});
  await trackingJoined;
  const police = io(RT_URL, { transports: ["websocket"], auth: { token: OFFICER_TOKEN }, reconnection: false });
  sockets.push(police);
  await next(police, "connection_established");
  const unitLocArrives = next(socket, "unit_loc");
  // PoliceDashboardScreen.tsx: socketRef.current.emit('officer_location_update', unitLocationData)
  police.emit("officer_location_update", { unit_id: "UNIT-A", latitude: 12.95, longitude: 77.58, timestamp: new Date().toISOString() });
  const unitLoc = await unitLocArrives;
  // Dashboard.jsx handleUnitLocationUpdate: if (!data.unit_id || !data.latitude || !data.longitude) return;
  assert.ok(unitLoc.unit_id && unitLoc.latitude && unitLoc.longitude);
  results.unitLoc = [unitLoc.unit_id, unitLoc.latitude, unitLoc.longitude];
}

try {
  await main();
  console.log(JSON.stringify({ ok: true, ...results }));
} catch (error) {
  console.log(JSON.stringify({ ok: false, error: String(error?.stack ?? error), ...results }));
  process.exitCode = 1;
} finally {
  for (const socket of sockets) socket.close();
  process.exit();
}
