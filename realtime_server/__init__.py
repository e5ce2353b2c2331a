"""The Socket.IO server process: authenticates clients, lets them join rooms, delivers the outbox."""
