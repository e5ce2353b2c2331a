"""Reopening a lost source (a camera's video, a stream's sound): backoff between attempts and what an outage looks like.

One policy for every capture stage: each failed attempt is counted and waits twice as long as the one before,
up to `reconnect_max_s`; the first failure of an outage is logged as a warning, an outage that has lasted
`down_after_s` as an error, once, and the source's state goes starting/up → reconnecting → down.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Protocol

from detection.config import CaptureSettings


class SourceStats(Protocol):
    state: str
    reconnects: int
    down_events: int
    last_error: str
    lock: threading.Lock


class Reconnector:
    """The reopen policy of one source; `what` names it in logs ("camera lobby"), `lost` is what stops ("frames")."""

    def __init__(self, *, what: str, source: str, lost: str, settings: CaptureSettings, stats: SourceStats,
                 stop: threading.Event, clock: Callable[[], float], logger: logging.Logger):
        self.what, self.source, self.lost, self.logger = what, source, lost, logger
        self.settings, self.stats, self.stop, self.clock = settings, stats, stop, clock
        self.offline_since: float | None = None
        self.backoff = settings.reconnect_initial_s

    def delivered(self) -> None:
        """The source delivered: the outage (if any) is over, and the next one starts from the shortest wait."""
        self.offline_since, self.backoff = None, self.settings.reconnect_initial_s

    def set_state(self, state: str) -> None:
        with self.stats.lock:
            self.stats.state = state

    def failed(self, reason: str) -> None:
        """Count a failed attempt, say so when an outage starts and when it has lasted, then wait the backoff."""
        now = self.clock()
        starts = self.offline_since is None
        if starts:
            self.offline_since = now
        with self.stats.lock:
            self.stats.reconnects += 1
            self.stats.last_error = reason
            newly_down = self.stats.state != "down" and now - self.offline_since >= self.settings.down_after_s
            if newly_down:
                self.stats.state, self.stats.down_events = "down", self.stats.down_events + 1
            elif self.stats.state != "down":
                self.stats.state = "reconnecting"
        if starts:
            self.logger.warning("%s: %s (%s); reopening with backoff", self.what, reason, self.source)
        if newly_down:
            self.logger.error("%s is down: no %s for %.0f s (%s); still retrying", self.what, self.lost,
                         now - self.offline_since, reason)
        self.stop.wait(self.backoff)
        self.backoff = min(self.backoff * 2, self.settings.reconnect_max_s)
