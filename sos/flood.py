"""Flood control for raising an SOS: beyond human rates an SOS is flagged and grouped, not refused.

The policy (docs/citizen.md explains it for operators):
- Each create is counted for its *sender*: the signed-in citizen, else the phone (the random
  `device_id` the citizen page keeps), else the client address when the caller sends no device id
  (older apps, scripts). Up to a threshold per sender and window, an SOS alerts normally.
- Beyond it, the sender's further SOS are still accepted, stored and shown, but flagged
  `suspected_flood` with an opaque label of their source, so the dashboard groups them
  ("34 unverified SOS from one source") instead of sounding the alarm for each.
- A flooder that makes up a new device id for every SOS is caught by a second count: beyond a
  number of *new* senders at one address in a window, further new senders there are flagged too.
  A second citizen behind the same address as a flooder who reuses one id (or sends none) is
  counted on her own and alerts normally.
- Only a hard ceiling per address, far above any human rate, answers 429; the citizen page then
  offers its call and SMS buttons.

Counting uses the platform's shared counters (common/ratelimit.py: Redis or a database table, the
same for every process) and its one rule for the client's address (`TRUSTED_PROXY_COUNT`).
"""

import hashlib
import hmac
from dataclasses import dataclass

from django.conf import settings

from common import ratelimit
from common.ratelimit import client_address

# Defaults; each may be overridden in settings (and so by environment variables there).
DEFAULTS = {
    "SOS_FLOOD_WINDOW_SECONDS": 600,
    # SOS per sender per window that alert one by one.
    "SOS_FLOOD_SENDER_THRESHOLD": 3,
    # The same for callers without a device id, who share their address's count.
    "SOS_FLOOD_ADDRESS_THRESHOLD": 10,
    # New senders per address per window before further new ones there are flagged.
    "SOS_FLOOD_NEW_SENDERS_PER_ADDRESS": 30,
    # SOS per address per window beyond which the API answers 429 (far above any human rate).
    "SOS_FLOOD_CEILING": 600,
}


def _setting(name: str) -> int:
    return int(getattr(settings, name, DEFAULTS[name]))


@dataclass(frozen=True)
class FloodVerdict:
    suspected: bool
    # An opaque, stable label of the address (not the address itself), to group flagged SOS by source.
    source: str
    over_ceiling: bool = False
    retry_after_s: int = 0


def _count(key: str, window_s: int) -> int:
    """Add one to `key`'s count in the current fixed window and return the new count (every process)."""
    return ratelimit.count(f"sos-flood:{key}", window_s).count


def _label(address: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"sos-source:{address}".encode(), hashlib.sha256).hexdigest()[:12]


def sos_flood_assess(request, *, device_id: str = "") -> FloodVerdict:
    """Count this create and say whether it looks like part of a flood (or is beyond the ceiling)."""
    window = _setting("SOS_FLOOD_WINDOW_SECONDS")
    address = client_address(request)
    source = _label(address)
    if _count(f"address:{address}", window) > _setting("SOS_FLOOD_CEILING"):
        return FloodVerdict(suspected=True, source=source, over_ceiling=True, retry_after_s=window)
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        sender, threshold = f"user:{user.pk}", _setting("SOS_FLOOD_SENDER_THRESHOLD")
    elif device_id:
        sender, threshold = f"device:{address}:{device_id}", _setting("SOS_FLOOD_SENDER_THRESHOLD")
    else:
        sender, threshold = f"no-device:{address}", _setting("SOS_FLOOD_ADDRESS_THRESHOLD")
    sent = _count(sender, window)
    if sent > threshold:
        return FloodVerdict(suspected=True, source=source)
    if sent == 1 and device_id and not (user and user.is_authenticated):
        # A sender new in this window: too many of those at one address is a flooder changing ids.
        if _count(f"new-senders:{address}", window) > _setting("SOS_FLOOD_NEW_SENDERS_PER_ADDRESS"):
            return FloodVerdict(suspected=True, source=source)
    return FloodVerdict(suspected=False, source=source)
