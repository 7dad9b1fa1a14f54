# SPDX-License-Identifier: LGPL-2.1-or-later
"""asyncio: await a context, or let it cancel a task (a cross-process
asyncio.timeout()).

A context descriptor is level-triggered: once done it polls readable for
ever, so a reader left registered would be called on every turn of the
loop. Every waiter here therefore reads from a descriptor of its own
(CTXFD_IOC_WATCH: a new open file, nobody else's), removes its reader the
first time it fires, and closes the descriptor when it is finished. That
works the same with every loop that has add_reader(): asyncio's selector
loops and uvloop.
"""

from __future__ import annotations

import asyncio
import os
from types import TracebackType
from typing import Optional, Type

from . import _uapi
from ._context import Context
from ._errors import ContextError, decode_err


async def wait_done(ctx: Context) -> ContextError:
    loop = asyncio.get_running_loop()
    if ctx.never_done:
        await loop.create_future()  # like a nil channel: until cancelled
    err = ctx.err
    if err is not None:
        return err
    fd = _uapi.watch(ctx._fileno())
    try:
        fut: asyncio.Future[None] = loop.create_future()

        def ready() -> None:
            loop.remove_reader(fd)
            if not fut.done():
                fut.set_result(None)

        loop.add_reader(fd, ready)
        try:
            await fut
        finally:
            loop.remove_reader(fd)
        err = _err_of(fd)
    finally:
        os.close(fd)
    return err


def _err_of(fd: int) -> ContextError:
    err = decode_err(_uapi.info(fd))
    assert err is not None, "a context fd polled readable while active"
    return err


class scope:
    """``async with ctxfd.scope(ctx):`` runs its body until ctx is done,
    then cancels the task running it and raises ctx's error (Canceled or
    DeadlineExceeded, a TimeoutError) with ``.cause`` set, chained from
    the cause when one was given: asyncio.timeout(), but the deadline or
    the cancel may come from any process holding the context.

    Like asyncio.timeout(), the body is interrupted at its next await; a
    context already done when the scope is entered interrupts the first
    one. Cancellations from elsewhere pass through unchanged. ``expired``
    tells afterwards whether the scope ended the body.
    """

    def __init__(self, ctx: Context) -> None:
        if not isinstance(ctx, Context):
            raise TypeError(f"scope() takes a ctxfd.Context, not {type(ctx).__name__}")
        self._ctx = ctx
        self._task: Optional[asyncio.Task[object]] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._fd = -1
        self._cancelling = 0
        self.expired = False

    @property
    def ctx(self) -> Context:
        return self._ctx

    async def __aenter__(self) -> "scope":
        if self._task is not None:
            raise RuntimeError("a scope can be entered only once")
        task = asyncio.current_task()
        if task is None:
            raise RuntimeError("ctxfd.scope() must be used inside a task")
        self._task = task
        self._loop = asyncio.get_running_loop()
        self._cancelling = task.cancelling()
        if not self._ctx.never_done:
            self._fd = _uapi.watch(self._ctx._fileno())
            self._loop.add_reader(self._fd, self._fire)
        return self

    def _fire(self) -> None:
        self._release()
        if self._task is not None and not self._task.done():
            self.expired = True
            self._task.cancel(msg="ctxfd: context done")

    def _release(self) -> None:
        if self._fd >= 0:
            fd, self._fd = self._fd, -1
            assert self._loop is not None
            self._loop.remove_reader(fd)
            os.close(fd)

    async def __aexit__(self, exc_type: Optional[Type[BaseException]],
                        exc: Optional[BaseException],
                        tb: Optional[TracebackType]) -> None:
        self._release()
        if not self.expired:
            return None
        assert self._task is not None
        if self._task.uncancel() <= self._cancelling and exc_type is asyncio.CancelledError:
            err = self._ctx.err
            if err is None:  # cannot happen: the fd polled readable
                return None
            raise err from (err.cause if err.cause is not err else exc)
        return None
