# SPDX-License-Identifier: LGPL-2.1-or-later
"""Contexts: Go's context package over the ctxfd kernel interface."""

from __future__ import annotations

import errno
import math
import os
import select
import threading
import time
from typing import TYPE_CHECKING, Any, MutableMapping, Optional, TypeVar, Union, overload

if TYPE_CHECKING:  # imported when used: a fast start for simple programs
    import datetime

from . import _uapi
from ._errors import Cause, CauseLike, ContextError, decode_err, encode_cause

if TYPE_CHECKING:  # pragma: no cover
    from ._uapi import Info

Seconds = Union[int, float, "datetime.timedelta"]
When = Union[int, float, "datetime.datetime"]
Key = Union[str, bytes]
Value = Union[str, bytes, None]
T = TypeVar("T")


def _bytes(what: str, data: Union[str, bytes]) -> bytes:
    if isinstance(data, str):
        return data.encode("utf-8")
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    raise TypeError(f"{what} must be str or bytes, not {type(data).__name__}")


class Context:
    """A kernel context: Go's context.Context, held by a file descriptor.

    Make one with background(), with_cancel(), with_timeout(),
    with_deadline(), with_value(), without_cancel(), from_env() or
    from_fd(). A context is a context manager: leaving the ``with`` block
    cancels it (if it can cancel: Go's ``defer cancel()``) and closes its
    descriptor. Closing the last cancel-capable descriptor of a context
    also cancels it, in the kernel, whoever holds other descriptors; so
    does the garbage collector closing it.

    A child keeps a reference to its parent object, so the parent's
    descriptor (and with it the parent context) lives as long as any
    child object does.
    """

    __slots__ = ("_fd", "_can_cancel", "_never_done", "_parent", "_final",
                 "_deadline", "_deadline_known", "_lock", "__weakref__")

    def __init__(self, fd: int, *, can_cancel: bool, never_done: bool,
                 parent: Optional["Context"] = None) -> None:
        self._fd = fd
        self._can_cancel = can_cancel
        self._never_done = never_done
        self._parent = parent
        self._final: Optional[ContextError] = None
        self._deadline: Optional[float] = None
        self._deadline_known = False
        self._lock = threading.Lock()

    # ---- descriptors ----------------------------------------------------

    def fileno(self) -> int:
        """The context's descriptor: it polls readable once the context is
        done. -1 for background() (no descriptor: never done). Owned by the
        context; use watch() for one of your own."""
        if self._fd == _CLOSED:
            raise ValueError("operation on a closed context")
        return self._fd

    def _fileno(self) -> int:
        fd = self.fileno()
        if fd < 0:
            raise ValueError("background() has no kernel context")
        return fd

    @property
    def closed(self) -> bool:
        return self._fd == _CLOSED

    @property
    def can_cancel(self) -> bool:
        """True if this object holds a cancel-capable descriptor."""
        return self._can_cancel

    @property
    def never_done(self) -> bool:
        """True for contexts that are never done (background(),
        without_cancel(), values over them): like Go's nil Done channel."""
        return self._never_done

    def watch(self, inheritable: bool = False) -> int:
        """A new watch-only descriptor on this context, owned by the
        caller (close it). inheritable: it survives exec (for pass_fds it
        need not: subprocess makes it so in the child)."""
        if self._fd == -1:
            return _uapi.background_fd(inheritable)
        return _uapi.watch(self._fileno(), inheritable)

    def close(self) -> None:
        """Close the descriptor. If it was the last cancel-capable one, the
        kernel cancels the context. The final state stays readable: err
        and cause of a done context keep their values, those of an active
        one raise ValueError."""
        with self._lock:
            fd, self._fd = self._fd, _CLOSED
        if fd < 0:
            return
        if self._final is not None or self._never_done:
            os.close(fd)
            return
        # Read the final state through a watch fd of our own once fd is
        # closed: closing the last cancel-capable fd cancels.
        try:
            w = _uapi.watch(fd)
        except OSError:
            os.close(fd)
            return
        os.close(fd)
        try:
            self._final = decode_err(_uapi.info(w))
        except OSError:
            pass
        finally:
            os.close(w)

    def __del__(self) -> None:
        fd = getattr(self, "_fd", _CLOSED)
        if fd >= 0:
            try:
                os.close(fd)
            except OSError:
                pass

    def __enter__(self) -> "Context":
        return self

    def __exit__(self, *exc: object) -> None:
        if self._can_cancel and self._fd >= 0:
            self.cancel()
        self.close()

    # ---- Go's API -------------------------------------------------------

    def cancel(self, cause: CauseLike = None) -> None:
        """Cancel the context and, before this returns, its whole subtree in
        every process (Go's cancel() and cancel(cause)). The first cancel
        wins; later ones change nothing. cause: None, a message, a Cause,
        an int code or an exception (its text is recorded). A message
        longer than the kernel takes is shortened, never refused."""
        if not self._can_cancel:
            raise PermissionError("this context cannot be canceled (watch-only: a value, "
                                  "without_cancel() or adopted context)")
        code, msg = encode_cause(cause)
        _uapi.cancel(self._fileno(), code, msg)

    def info(self) -> "Info":
        """Everything the kernel reports about the context (CTXFD_IOC_INFO)."""
        return _uapi.info(self._fileno())

    @property
    def id(self) -> Optional[int]:
        """The kernel's id of the context (unique, never reused); None for
        background()."""
        if self._fd == -1:
            return None
        return self.info().id

    @property
    def err(self) -> Optional[ContextError]:
        """None while active; Canceled or DeadlineExceeded once done (Go's
        ctx.Err()). A new exception object each time, ready to raise;
        compare with isinstance (or ==, which compares the kind)."""
        if self._final is not None:
            return type(self._final)(self._final.cause if self._final.cause is not self._final else None)
        if self._fd == -1:
            return None
        if self._fd == _CLOSED:
            raise ValueError("operation on a closed context")
        err = decode_err(_uapi.info(self._fd))
        if err is not None:
            self._final = err
        return err

    @property
    def cause(self) -> Optional[BaseException]:
        """Go's context.Cause(ctx): None while active; once done, the cause
        given to the first cancel (a Cause) or, without one, the same as
        err."""
        err = self.err
        return None if err is None else err.cause

    @property
    def deadline(self) -> Optional[float]:
        """The effective deadline (the earliest along the ancestors) in
        seconds on time.monotonic()'s clock (asyncio's loop.time()), or
        None (Go's ctx.Deadline())."""
        if not self._deadline_known:
            if self._fd != -1 and not self._never_done:
                info = _uapi.info(self._fileno())
                if info.deadline_ns is not None:
                    self._deadline = _uapi.monotonic_from(info.deadline_ns, info.clockid)
            self._deadline_known = True
        return self._deadline

    @overload
    def value(self, key: Key) -> Optional[bytes]: ...

    @overload
    def value(self, key: Key, default: T) -> Union[bytes, T]: ...

    def value(self, key: Key, default: Any = None) -> Any:
        """Go's ctx.Value(key): the value of the nearest binding of key
        among the context and its ancestors, as bytes; default if there is
        none or the nearest is a nil binding (with_value(p, key, None))."""
        k = _bytes("key", key)
        if not k:
            raise ValueError("empty key")
        if self._fd == -1:
            return default
        _, val = _uapi.lookup(self._fileno(), k)
        return default if val is None else val

    def wait(self, timeout: Optional[float] = None) -> bool:
        """Block until the context is done (True) or timeout seconds passed
        (False). Never returns True for a never-done context."""
        if self._never_done:
            if timeout is None:
                raise ValueError("waiting forever for a context that is never done")
            time.sleep(timeout)
            return False
        fd = self._fileno()
        ms = -1 if timeout is None else max(0, math.ceil(timeout * 1000))
        p = select.poll()
        p.register(fd, select.POLLIN)
        end = None if timeout is None else time.monotonic() + timeout
        while True:
            if p.poll(ms):
                return True
            if end is not None:
                left = end - time.monotonic()
                if left <= 0:
                    return False
                ms = math.ceil(left * 1000)

    async def done(self) -> ContextError:
        """Wait in asyncio until the context is done; returns err (Go's
        ``<-ctx.Done()``). See ctxfd.scope() to cancel a task instead."""
        from ._asyncio import wait_done
        return await wait_done(self)

    def __repr__(self) -> str:
        if self._fd == -1:
            return "<ctxfd.Context background>"
        if self._fd == _CLOSED:
            return f"<ctxfd.Context closed, {self._final!r}>"
        try:
            i = self.info()
        except OSError as e:
            return f"<ctxfd.Context fd={self._fd} ({e})>"
        state = "active" if not i.done else repr(decode_err(i))
        return f"<ctxfd.Context id={i.id} {i.kind} fd={self._fd} {state}>"


_CLOSED = -2

_BACKGROUND = Context(-1, can_cancel=False, never_done=True)


def background() -> Context:
    """Go's context.Background(): never done, no deadline, no values, no
    descriptor. Children of it are new kernel roots."""
    return _BACKGROUND


todo = background


def _check_parent(parent: Context) -> Context:
    if not isinstance(parent, Context):
        raise TypeError(f"parent must be a ctxfd.Context, not {type(parent).__name__}")
    parent.fileno()  # not closed
    return parent


def _parent_fd(parent: Context) -> Optional[int]:
    return None if parent._fd == -1 else parent._fd


def with_cancel(parent: Context) -> Context:
    """Go's WithCancel: a cancelable child of parent (done when parent is)."""
    _check_parent(parent)
    fd = _uapi.create(_parent_fd(parent))
    return Context(fd, can_cancel=True, never_done=False, parent=parent)


def _seconds(what: str, value: Seconds) -> float:
    if hasattr(value, "total_seconds"):  # datetime.timedelta
        return float(value.total_seconds())
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{what} must be seconds (int, float) or a timedelta, not {type(value).__name__}")
    if math.isnan(value):
        raise ValueError(f"{what} is NaN")
    return float(value)


def with_timeout(parent: Context, timeout: Seconds, cause: CauseLike = None) -> Context:
    """Go's WithTimeout (WithTimeoutCause with cause): done with
    DeadlineExceeded timeout seconds from now, or earlier with parent. A
    timeout <= 0 gives a context born done."""
    _check_parent(parent)
    secs = _seconds("timeout", timeout)
    # An absolute deadline from now: however long the ioctl takes to
    # come, the deadline is the one asked for.
    now = time.monotonic_ns()
    ns = now if secs <= 0 else min(now + math.ceil(secs * 1e9), 2**63 - 1)
    fd = _uapi.create(_parent_fd(parent), deadline_ns=ns, deadline_cause=encode_cause(cause))
    return Context(fd, can_cancel=True, never_done=False, parent=parent)


def with_deadline(parent: Context, deadline: When, cause: CauseLike = None) -> Context:
    """Go's WithDeadline (WithDeadlineCause with cause). deadline: seconds
    on time.monotonic()'s clock (asyncio's loop.time()), or a datetime
    (naive ones are local time), converted to that clock now."""
    _check_parent(parent)
    if hasattr(deadline, "timestamp"):  # datetime.datetime
        secs = deadline.timestamp() - time.time() + time.monotonic()
    else:
        secs = _seconds("deadline", deadline)
    ns = 0 if secs <= 0 else min(math.ceil(secs * 1e9), 2**63 - 1)
    fd = _uapi.create(_parent_fd(parent), deadline_ns=ns, deadline_cause=encode_cause(cause))
    return Context(fd, can_cancel=True, never_done=False, parent=parent)


def with_value(parent: Context, key: Key, value: Value) -> Context:
    """Go's WithValue: a child carrying key -> value (str is UTF-8 encoded;
    None is Go's nil, which hides older bindings of key). Done exactly when
    parent is; watch-only."""
    _check_parent(parent)
    k = _bytes("key", key)
    if not k:
        raise ValueError("empty key")
    v = None if value is None else _bytes("value", value)
    try:
        fd = _uapi.create(_parent_fd(parent), key=k, value=v)
    except OSError as e:
        if e.errno == errno.EINVAL and v == b"":
            raise OSError(e.errno, "this ctxfd module cannot bind the empty value, only "
                          "None (Go's nil): it predates the distinction") from None
        raise
    return Context(fd, can_cancel=False, never_done=parent._never_done, parent=parent)


def without_cancel(parent: Context) -> Context:
    """Go's WithoutCancel: keeps parent's values, is never done, has no
    deadline. Watch-only."""
    _check_parent(parent)
    if parent._fd == -1:
        return parent
    fd = _uapi.create(parent._fd, without_cancel=True)
    return Context(fd, can_cancel=False, never_done=True, parent=parent)


def from_fd(fd: int) -> Context:
    """Adopt a context descriptor (received over a socket, inherited): the
    Context owns it from now on. Checked to be a ctxfd context."""
    try:
        i = _uapi.info(fd)
    except OSError as e:
        raise OSError(e.errno, f"descriptor {fd} is not a ctxfd context ({e.strerror})") from None
    never = i.kind == "without-cancel" or (i.kind == "value" and i.parent_id == 0)
    return Context(fd, can_cancel=i.can_cancel, never_done=never)


_env_lock = threading.Lock()
_env_ctx: Optional[Context] = None


def from_env() -> Context:
    """The context this process was started under (the CTXFD environment
    variable, set by ctxrun, libctxfd's ctx_export_env() or export_env()),
    or background() if there is none. The first call adopts the descriptor,
    makes it close-on-exec and removes CTXFD from os.environ, so that
    children do not mistake a reused number for a context; later calls
    return the same object."""
    global _env_ctx
    with _env_lock:
        if _env_ctx is not None:
            return _env_ctx
        val = os.environ.get(_uapi.ENV, "")
        if not val:
            return background()
        try:
            fd = int(val, 10)
            if fd < 0:
                raise ValueError
        except ValueError:
            raise ValueError(f"{_uapi.ENV}={val!r} is not a descriptor number") from None
        ctx = from_fd(fd)
        os.set_inheritable(fd, False)
        del os.environ[_uapi.ENV]
        _env_ctx = ctx
        return ctx


def export_env(ctx: Context, env: Optional[MutableMapping[str, str]] = None) -> int:
    """Prepare a child process: a new watch-only descriptor on ctx that
    survives exec, named as CTXFD=<fd> in env (default os.environ).
    Returns the descriptor, which the caller closes once the child has
    started. With subprocess, pass it in pass_fds (or use ctxfd.run)."""
    fd = ctx.watch(inheritable=True)
    (os.environ if env is None else env)[_uapi.ENV] = str(fd)
    return fd
