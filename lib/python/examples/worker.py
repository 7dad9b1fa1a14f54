#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""An asyncio worker that stops when the context it was started under is
done: by ctxrun's timeout, by its parent's cancel (with a cause), or
because its parent died. Any process can be that parent: ctxrun, a C
program using libctxfd, Go, or Python.

    ctxrun -t 1 -- python3 worker.py
"""

import asyncio
import sys

import ctxfd


async def work(n: int) -> None:
    await asyncio.sleep(0.1)  # a step of real work
    print(f"step {n} done", flush=True)


async def main() -> int:
    ctx = ctxfd.from_env()
    try:
        async with ctxfd.scope(ctx):
            for n in range(1, 1_000_000):
                await work(n)
    except ctxfd.ContextError as e:
        print(f"stopped: {e}, cause: {e.cause}", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
