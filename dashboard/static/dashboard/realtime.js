// The Socket.IO connection shared by both pages: resumes from the last event id after every reconnect.

import { io } from "socket.io-client";

export function realtimeUrl(config) {
  return config.url || `${location.protocol}//${location.hostname}:${config.port}`;
}

// `credentials` is {token} for responders or {sos_token} for a citizen's alert.
// `onConnect(socket, {resumed})` joins rooms; `onEvent(name, data)` gets each event once;
// `onStatus("online" | "offline" | "refused", detail)` drives the banners.
export function connectRealtime({ config, credentials, onConnect, onEvent, onStatus }) {
  let lastEventId = null;
  const seen = new Set();
  let connectedBefore = false;

  const socket = io(realtimeUrl(config), {
    // A function, so every reconnect tells the server where this page stopped and it replays the rest.
    auth: (cb) => cb(lastEventId === null ? { ...credentials } : { ...credentials, last_event_id: lastEventId }),
    transports: ["websocket", "polling"],
    reconnectionDelay: 500,
    reconnectionDelayMax: 3000,
  });

  socket.on("connect", () => {
    onStatus("online");
    onConnect(socket, { resumed: connectedBefore, lastEventId });
    connectedBefore = true;
  });
  socket.on("disconnect", (reason) => onStatus("offline", reason));
  socket.on("connect_error", (error) => {
    // The server refused us (bad or expired credential): retrying would not help.
    onStatus(socket.active ? "offline" : "refused", error.message);
  });

  socket.onAny((event, data) => {
    const id = data && typeof data.event_id === "number" ? data.event_id : null;
    if (id !== null) {
      // A replay may repeat an event that arrived live just before the connection dropped.
      if (seen.has(id)) return;
      seen.add(id);
      if (seen.size > 2000) seen.delete(seen.values().next().value);
      if (lastEventId === null || id > lastEventId) lastEventId = id;
    }
    onEvent(event, data || {});
  });

  return {
    socket,
    get lastEventId() {
      return lastEventId;
    },
    // The page's REST snapshot is newer than nothing: start counting from an id the server gave us.
    setLastEventId(id) {
      if (typeof id === "number" && (lastEventId === null || id > lastEventId)) lastEventId = id;
    },
  };
}
