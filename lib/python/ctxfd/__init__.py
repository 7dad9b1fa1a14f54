# SPDX-License-Identifier: LGPL-2.1-or-later
"""ctxfd: Go's context package for Python, on kernel contexts.

A context is a kernel object behind a file descriptor, so it crosses
fork, exec and SCM_RIGHTS: one cancellation tree can span processes
written in any language (C with libctxfd, Go, shell with ctxrun).

    import ctxfd

    with ctxfd.with_timeout(ctxfd.background(), 5) as ctx:   # defer cancel()
        ctxfd.run(ctx, ["make", "test"])      # the tree is killed at 5 s
        await ctx.done()                       # in asyncio
        async with ctxfd.scope(ctx): ...       # cancel a task when done

Names follow Go's: background(), with_cancel(), with_timeout(),
with_deadline(), with_value(), without_cancel(), ctx.err, ctx.cause,
ctx.deadline, ctx.value(); from_env() / export_env() for the CTXFD
variable. See lib/python/README.md.
"""

from typing import TYPE_CHECKING, Any

from ._context import (Context, background, export_env, from_env, from_fd, todo,
                       with_cancel, with_deadline, with_timeout, with_value,
                       without_cancel)
from ._errors import Canceled, Cause, ContextError, DeadlineExceeded
from ._uapi import CAUSE_CODE_DEFAULT, DEVICE, ENV, Info

if TYPE_CHECKING:
    from ._asyncio import scope
    from ._subprocess import Popen, create_subprocess_exec, run

# asyncio and subprocess are loaded when first used: a program that only
# checks its context (ctxfd.from_env().err) starts fast.
_LAZY = {"scope": "_asyncio", "Popen": "_subprocess", "run": "_subprocess",
         "create_subprocess_exec": "_subprocess"}


def __getattr__(name: str) -> Any:
    mod = _LAZY.get(name)
    if mod is None:
        raise AttributeError(f"module 'ctxfd' has no attribute {name!r}")
    import importlib
    value = getattr(importlib.import_module(f"{__name__}.{mod}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)

__all__ = [
    "CAUSE_CODE_DEFAULT", "Canceled", "Cause", "Context", "ContextError",
    "DEVICE", "DeadlineExceeded", "ENV", "Info", "Popen", "background",
    "create_subprocess_exec", "export_env", "from_env", "from_fd", "run",
    "scope", "todo", "with_cancel", "with_deadline", "with_timeout",
    "with_value", "without_cancel",
]

__version__ = "1.0.0"
