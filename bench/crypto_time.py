"""Time spent inside journal.crypto while a page is served (issue 6: "encryption must cost
almost nothing").

`timing_crypto()` wraps every function and method that journal/crypto defines, wherever a
module of the app holds it (`crypto.seal_field`, or a name imported from it), for as long as
the block runs. Only the outermost call is timed, so a sealing function that calls another
counts once. The wrappers' own cost (~0.3 µs a call) is counted as crypto: the share
reported errs on the high side.
"""

from __future__ import annotations

import functools
import inspect
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from journal.crypto import envelope, kdf, otp

_MODULES = (envelope, kdf, otp)


class CryptoClock:
    """Nanoseconds spent in journal.crypto since the block began (outermost calls only)."""

    def __init__(self) -> None:
        self.ns = 0
        self.calls = 0
        self._depth = threading.local()

    def wrap(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            depth = getattr(self._depth, "n", 0)
            if depth:
                return fn(*args, **kwargs)
            self._depth.n = 1
            started = time.perf_counter_ns()
            try:
                return fn(*args, **kwargs)
            finally:
                self.ns += time.perf_counter_ns() - started
                self.calls += 1
                self._depth.n = 0
        return timed


def _own_functions() -> dict[int, Callable[..., Any]]:
    found = {}
    for module in _MODULES:
        for value in vars(module).values():
            if inspect.isfunction(value) and value.__module__ == module.__name__:
                found[id(value)] = value
    return found


def _own_classes() -> list[type]:
    return [value for module in _MODULES for value in vars(module).values()
            if inspect.isclass(value) and value.__module__ == module.__name__]


@contextmanager
def timing_crypto() -> Iterator[CryptoClock]:
    """Time journal.crypto for the duration of the block; everything is put back after."""
    clock = CryptoClock()
    functions = _own_functions()
    undo: list[tuple[Any, str, Any]] = []
    for name, module in list(sys.modules.items()):
        if module is None or not name.startswith("journal"):
            continue
        for attr, value in list(vars(module).items()):
            if id(value) in functions:
                undo.append((module, attr, value))
                setattr(module, attr, clock.wrap(value))
    for cls in _own_classes():
        for attr, value in list(vars(cls).items()):
            # __init__ too: FieldCipher and PrivateKey parse their key there.
            if inspect.isfunction(value) and (attr == "__init__" or not attr.startswith("__")):
                undo.append((cls, attr, value))
                setattr(cls, attr, clock.wrap(value))
    try:
        yield clock
    finally:
        for owner, attr, value in reversed(undo):
            setattr(owner, attr, value)
