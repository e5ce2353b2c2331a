"""Hooks: a lower app names a moment ("an SOS has a position"), the apps above it react, without an upward import.

The app that fires a hook declares it in its own `hooks.py`; an app that reacts registers a receiver in its
`AppConfig.ready()`. Receivers run synchronously, in the order they registered, inside the caller's
transaction, so what they write stands or falls with what the caller writes. An exception in a receiver is
the caller's exception: nothing is swallowed.
"""

from collections.abc import Callable
from typing import Any


class Hook:
    """One moment a lower app announces; `fire(**facts)` calls every receiver and returns their answers in order."""

    def __init__(self, name: str, doc: str):
        self.name = name
        self.__doc__ = doc
        self._receivers: list[Callable[..., Any]] = []

    def register(self, receiver: Callable[..., Any]) -> Callable[..., Any]:
        """Add a receiver (usable as a decorator); registering the same one twice keeps one."""
        if receiver not in self._receivers:
            self._receivers.append(receiver)
        return receiver

    def unregister(self, receiver: Callable[..., Any]) -> None:
        self._receivers.remove(receiver)

    @property
    def receivers(self) -> tuple[Callable[..., Any], ...]:
        return tuple(self._receivers)

    def fire(self, **facts: Any) -> list[Any]:
        return [receiver(**facts) for receiver in self._receivers]

    def __repr__(self) -> str:
        return f"<Hook {self.name}: {', '.join(f'{r.__module__}.{r.__qualname__}' for r in self._receivers) or 'no receivers'}>"
