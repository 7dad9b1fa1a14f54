# SPDX-License-Identifier: LGPL-2.1-or-later
"""Go's context errors, as Python exceptions."""

from __future__ import annotations

import errno
from typing import Optional, Union

from . import _uapi


class ContextError(Exception):
    """Why a context is done: Go's ctx.Err(). Either Canceled or
    DeadlineExceeded; ``cause`` is Go's context.Cause(ctx): the error
    itself when nobody gave a cause, else a Cause."""

    errno: int = 0
    message: str = ""

    def __init__(self, cause: Optional[BaseException] = None) -> None:
        super().__init__(self.message)
        self.cause: BaseException = self if cause is None else cause

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other)

    def __hash__(self) -> int:
        return hash(type(self))

    def __repr__(self) -> str:
        if self.cause is self:
            return f"{type(self).__name__}()"
        return f"{type(self).__name__}(cause={self.cause!r})"


class Canceled(ContextError):
    """The context was canceled (Go's context.Canceled)."""

    errno = errno.ECANCELED
    message = "context canceled"


class DeadlineExceeded(ContextError, TimeoutError):
    """The context's deadline passed (Go's context.DeadlineExceeded).

    Also a TimeoutError, so ``except TimeoutError`` catches it as it
    catches asyncio.timeout()'s."""

    errno = errno.ETIMEDOUT
    message = "context deadline exceeded"


class Cause(Exception):
    """An explicit cancellation cause: an integer code and a message.

    Pass one to cancel() to choose the code; a plain string or exception
    is recorded with the code CAUSE_CODE_DEFAULT and its text. Causes
    cross processes with the context, so only the code and the message
    travel: a Cause read back is equal to the one given, not identical.
    """

    def __init__(self, code: int = _uapi.CAUSE_CODE_DEFAULT, message: str = "") -> None:
        if not isinstance(code, int) or isinstance(code, bool):
            raise TypeError(f"cause code must be an int, not {type(code).__name__}")
        if not -(2**31) <= code < 2**31:
            raise ValueError(f"cause code {code} does not fit in 32 bits")
        if code == 0:
            raise ValueError("cause code 0 means 'no cause'")
        super().__init__(message or f"cause {code}")
        self.code = code
        self.message = message

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Cause) and (self.code, self.message) == (other.code, other.message)

    def __hash__(self) -> int:
        return hash((self.code, self.message))

    def __repr__(self) -> str:
        return f"Cause({self.code}, {self.message!r})"


CauseLike = Union[None, str, int, BaseException]


def encode_cause(cause: CauseLike) -> tuple[int, bytes]:
    """(code, message bytes) for the kernel; (0, b"") for no cause."""
    if cause is None:
        return 0, b""
    if isinstance(cause, Cause):
        return cause.code, _uapi.clip_message(cause.message)
    if isinstance(cause, ContextError):
        # Re-raising a context's own error: the same err, no new cause.
        return 0, b""
    if isinstance(cause, bool):
        raise TypeError("a cause is a Cause, a str, an int or an exception, not a bool")
    if isinstance(cause, int):
        return Cause(cause).code, b""
    if isinstance(cause, str):
        return _uapi.CAUSE_CODE_DEFAULT, _uapi.clip_message(cause)
    if isinstance(cause, BaseException):
        text = str(cause) or type(cause).__name__
        return _uapi.CAUSE_CODE_DEFAULT, _uapi.clip_message(text)
    raise TypeError(f"a cause is a Cause, a str, an int or an exception, not {type(cause).__name__}")


def decode_err(info: _uapi.Info) -> Optional[ContextError]:
    """ctx.err from a decoded INFO: None while active."""
    if not info.done:
        return None
    cls = DeadlineExceeded if info.err == errno.ETIMEDOUT else Canceled
    if not info.explicit_cause:
        return cls()
    return cls(Cause(info.cause_code, info.cause_message))
