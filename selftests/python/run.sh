#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# build/selftests/python/binding_test: the Python binding's pytest suite
# (selftests/python/test_*.py) as one kselftest-style program: TAP, a
# "# Totals:" line, exit 0 (pass), 1 (failures) or 4 (all skipped).
#
# Uses Debian's interpreter (/usr/bin/python3, python3-pytest,
# python3-uvloop), the package from lib/python (not an installed one) and
# writes nothing into the tree. Extra arguments go to pytest (-k EXPR).
top=$(cd "$(dirname "$0")" && pwd) || exit 1
while [ "$top" != / ] && [ ! -f "$top/uapi/linux/ctxfd.h" ]; do top=$(dirname "$top"); done
python=${CTXFD_PYTHON:-/usr/bin/python3}

if ! "$python" -c 'import pytest' 2>/dev/null; then
	echo "1..0 # SKIP $python has no pytest (apt-get install python3-pytest)"
	echo "# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:1 error:0"
	exit 4
fi
if [ ! -e /dev/ctxfd ]; then
	echo "1..0 # SKIP /dev/ctxfd missing: ctxfd.ko not loaded"
	echo "# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:1 error:0"
	exit 4
fi

start=$(date +%s.%N)
out=$(mktemp) || exit 1
trap 'rm -f "$out"' EXIT
cd "$top/selftests/python" || exit 1
# Start-up costs seconds in a TCG VM, so: no site (-S: Debian's
# dist-packages, where pytest and uvloop live, is put on the path by hand)
# and no scan of every installed package for pytest plugins.
pypath="$top/lib/python:$top/selftests/python"
flags=
if [ "$python" = /usr/bin/python3 ] && [ -d /usr/lib/python3/dist-packages ]; then
	flags=-S
	pypath="$pypath:/usr/lib/python3/dist-packages"
fi
PYTHONPATH="$pypath${PYTHONPATH:+:$PYTHONPATH}" PYTHONDONTWRITEBYTECODE=1 \
PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 CTXFD_TOP="$top" \
	"$python" $flags -m pytest -p ktap -p no:terminal -p no:cacheprovider \
	--rootdir "$top/selftests/python" "$@" 2>&1 | tee "$out"

echo "# binding_test: $(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }') s in all"
totals=$(grep '^# Totals:' "$out" | tail -n 1)
pass=$(echo "$totals" | sed -n 's/.*pass:\([0-9]*\).*/\1/p')
fail=$(echo "$totals" | sed -n 's/.*fail:\([0-9]*\).*/\1/p')
skip=$(echo "$totals" | sed -n 's/.*skip:\([0-9]*\).*/\1/p')
error=$(echo "$totals" | sed -n 's/.*error:\([0-9]*\).*/\1/p')
[ -n "$totals" ] || exit 1
[ "$fail" = 0 ] && [ "$error" = 0 ] || exit 1
[ "$pass" = 0 ] && [ "$skip" != 0 ] && exit 4
exit 0
