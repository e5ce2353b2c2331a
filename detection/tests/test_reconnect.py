"""The one reopen policy of every capture stage, on a driven clock: backoff, the outage's states and its log lines."""

import logging
import threading
from dataclasses import dataclass, field

from detection.config import CaptureSettings
from detection.reconnect import Reconnector


@dataclass
class Stats:
    state: str = "up"
    reconnects: int = 0
    down_events: int = 0
    last_error: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)


class DrivenStop:
    """A stop event whose wait() moves a fake clock on instead of sleeping."""

    def __init__(self):
        self.now, self.waits = 0.0, []

    def wait(self, seconds):
        self.waits.append(seconds)
        self.now += seconds
        return False


def reconnector(stop, stats, **settings):
    return Reconnector(what="camera lobby", source="rtsp://***@cam", lost="frames", stats=stats, stop=stop,
                       settings=CaptureSettings(**settings), clock=lambda: stop.now,
                       logger=logging.getLogger("detection.capture"))


def test_the_wait_doubles_up_to_the_longest_and_a_delivery_starts_it_again():
    stop, stats = DrivenStop(), Stats()
    reconnect = reconnector(stop, stats, reconnect_initial_s=1, reconnect_max_s=5, down_after_s=1000)
    for _ in range(5):
        reconnect.failed("cannot open the source")
    reconnect.delivered()
    reconnect.failed("the stream stopped delivering frames")
    assert stop.waits == [1, 2, 4, 5, 5, 1]
    assert (stats.reconnects, stats.state, stats.last_error) == (6, "reconnecting", "the stream stopped delivering frames")


def test_an_outage_is_down_once_after_down_after_s_and_logged_once_at_its_start(caplog):
    stop, stats = DrivenStop(), Stats()
    reconnect = reconnector(stop, stats, reconnect_initial_s=1, reconnect_max_s=4, down_after_s=10)
    with caplog.at_level(logging.WARNING, logger="detection.capture"):
        for _ in range(8):
            reconnect.failed("cannot open the source")
    assert (stats.state, stats.down_events) == ("down", 1)
    assert [r.levelname for r in caplog.records] == ["WARNING", "ERROR"]
    assert caplog.records[1].getMessage() == (
        "camera lobby is down: no frames for 11 s (cannot open the source); still retrying")

    reconnect.delivered()  # back up; the next outage is a new one
    reconnect.set_state("up")
    for _ in range(6):
        reconnect.failed("the stream stopped delivering frames")
    assert (stats.state, stats.down_events) == ("down", 2)
