// The Socket.IO connection shared by both pages: resumes from the last event id after every reconnect.

import { io } from "socket.io-client";

// Answers to this client rather than events from the outbox: their `event_id` is a resume point, not an event.
const CONTROL = new Set(["connection_established", "room_joined", "rooms_joined", "error", "resync_required"]);

export function realtimeUrl(config) {
  return config.url || `${location.protocol}//${location.hostname}:${config.port}`;
}

// `credentials` is {token} for responders or {sos_token} for a citizen's alert.
// `onConnect(socket, {resumeFrom})` joins rooms (resumeFrom null: the server starts us at "now"); `onEvent(name, data)` gets each event once;
// `onStatus("online" | "offline" | "refused", detail)` drives the banners.
export function connectRealtime({ config, credentials, onConnect, onEvent, onStatus }) {
  let lastEventId = null;
  let resumeFrom = null; // the id this connection was opened with
  const seen = new Set();

  const socket = io(realtimeUrl(config), {
    // A function, so every reconnect tells the server where this page stopped and it replays the rest.
    auth: (cb) => {
      resumeFrom = lastEventId;
      cb(resumeFrom === null ? { ...credentials } : { ...credentials, last_event_id: resumeFrom });
    },
    transports: ["websocket", "polling"],
    reconnectionDelay: 500,
    reconnectionDelayMax: 3000,
  });

  socket.on("connect", () => {
    onStatus("online");
    onConnect(socket, { resumeFrom });
  });
  socket.on("disconnect", (reason) => onStatus("offline", reason));
  socket.on("connect_error", (error) => {
    const retryAfter = error.data?.retry_after;
    if (!socket.active && typeof retryAfter === "number") {
      // The server is full, not refusing us: try again later, spread out so a crowd does not return at once.
      onStatus("offline", error.message);
      setTimeout(() => socket.connect(), (retryAfter + Math.random() * retryAfter) * 1000);
      return;
    }
    // The server refused us (bad or expired credential): retrying would not help.
    onStatus(socket.active ? "offline" : "refused", error.message);
  });

  socket.onAny((event, data = {}) => {
    const id = typeof data.event_id === "number" ? data.event_id : null;
    if (event === "resync_required") {
      // The page refetches everything; the server's id then replaces a resume point it cannot serve.
      lastEventId = id;
    } else if (id !== null && CONTROL.has(event)) {
      // "Everything owed up to here was sent": lets a page that saw no event yet resume after a drop.
      if (lastEventId === null || id > lastEventId) lastEventId = id;
    } else if (id !== null) {
      // A replay may repeat an event that arrived live just before the connection dropped.
      if (seen.has(id)) return;
      seen.add(id);
      if (seen.size > 5000) seen.delete(seen.values().next().value);
      if (lastEventId === null || id > lastEventId) lastEventId = id;
    }
    onEvent(event, data);
  });

  return {
    socket,
    get lastEventId() {
      return lastEventId;
    },
  };
}

// Join every room a page needs in one message, so the server sends one stream in id order, in which the
// highest event_id seen is always a safe resume point. `rooms`: [{type: "sos_channel"}, {type: "sos", room_id},
// {type: "unit", unit_number}, ...]. The server answers once, with `rooms_joined {joined, refused, event_id}`.
export function joinRooms(socket, rooms) {
  socket.emit("join", { rooms });
}
