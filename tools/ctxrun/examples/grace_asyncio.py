#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""A worker that shuts down cleanly when its context is done.

Under ctxrun --grace, the deadline (or Ctrl-C, or SIGTERM to ctxrun) first
makes the file descriptor in $CTXFD readable; SIGTERM comes only after the
grace period. The worker sees the fd with asyncio's add_reader(), finishes
the job in hand, saves its state and exits on its own:

    ctxrun --grace 10s 1h python3 grace_asyncio.py

Without a CTXFD (not under ctxrun), it works until it is killed.
"""
import asyncio
import errno
import os
import struct


def context_done(loop):
    """A future set once the context in $CTXFD is done: (err, cause code)."""
    done = loop.create_future()
    fd = os.environ.get("CTXFD")
    if fd is not None:
        fd = int(fd)

        def readable():
            loop.remove_reader(fd)
            # struct ctxfd_event: __u64 id; __s32 err; __s32 cause_code
            _, err, cause = struct.unpack("=Qii", os.read(fd, 16))
            done.set_result((err, cause))

        loop.add_reader(fd, readable)
    return done


async def job(n):
    """A unit of work, never to be cut in half."""
    await asyncio.sleep(0.2)
    print(f"job {n} done", flush=True)


async def main():
    done = context_done(asyncio.get_running_loop())
    n = 0
    while not done.done():
        n += 1
        await job(n)
    err, cause = done.result()
    why = "deadline exceeded" if err == errno.ETIMEDOUT else "canceled"
    print(f"context {why} (cause {cause}): saving state", flush=True)
    await asyncio.sleep(1)      # flush, close, save...
    print("clean shutdown", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
