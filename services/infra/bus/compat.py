"""A shim for a mismatch between FastStream 0.7.8 and nats-py 2.16.0.

nats-py's ``PullSubscription.fetch`` raises a bare ``asyncio.TimeoutError`` when an empty
stream has nothing to give, while FastStream's pull loop only suppresses
``nats.errors.TimeoutError``; the loop then crashes and FastStream's supervisor restarts it
with an ERROR log. ``nats.errors.TimeoutError`` subclasses ``asyncio.TimeoutError``, so
re-raising as it keeps every other caller's ``except`` working."""

from __future__ import annotations

import functools
from typing import Any

import nats.errors
from nats.js.client import JetStreamContext

_PATCHED = "_homecare_timeout_shim"


def install_fetch_timeout_shim() -> None:
    cls = JetStreamContext.PullSubscription
    if getattr(cls.fetch, _PATCHED, False):
        return
    original = cls.fetch

    @functools.wraps(original)
    async def fetch(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return await original(self, *args, **kwargs)
        except nats.errors.TimeoutError:
            raise
        except TimeoutError as exc:
            raise nats.errors.TimeoutError from exc

    setattr(fetch, _PATCHED, True)
    cls.fetch = fetch  # type: ignore[method-assign]
