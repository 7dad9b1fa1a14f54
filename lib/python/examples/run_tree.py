#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Run a command under a timeout; the kernel kills its whole process tree
when the time is up, even if this program has died by then.

    python3 run_tree.py 0.5 sh -c 'sleep 30 | cat'
"""

import sys

import ctxfd


def main() -> int:
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    seconds, cmd = float(sys.argv[1]), sys.argv[2:]
    with ctxfd.with_timeout(ctxfd.from_env(), seconds, cause=f"{seconds} s is up") as ctx:
        try:
            return ctxfd.run(ctx, cmd).returncode
        except ctxfd.DeadlineExceeded as e:
            print(f"{cmd[0]}: {e} ({e.cause})", file=sys.stderr)
            return 124  # like timeout(1)


if __name__ == "__main__":
    sys.exit(main())
