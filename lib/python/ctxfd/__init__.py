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

from ._asyncio import scope
from ._context import (Context, background, export_env, from_env, from_fd, todo,
                       with_cancel, with_deadline, with_timeout, with_value,
                       without_cancel)
from ._errors import Canceled, Cause, ContextError, DeadlineExceeded
from ._subprocess import Popen, create_subprocess_exec, run
from ._uapi import CAUSE_CODE_DEFAULT, DEVICE, ENV, Info

__all__ = [
    "CAUSE_CODE_DEFAULT", "Canceled", "Cause", "Context", "ContextError",
    "DEVICE", "DeadlineExceeded", "ENV", "Info", "Popen", "background",
    "create_subprocess_exec", "export_env", "from_env", "from_fd", "run",
    "scope", "todo", "with_cancel", "with_deadline", "with_timeout",
    "with_value", "without_cancel",
]

__version__ = "1.0.0"
