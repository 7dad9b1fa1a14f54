#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# build/selftests/go/binding_test: the Go binding's `go test` suites as one
# kselftest-style program: TAP, a "# Totals:" line, exit 0 (pass), 1
# (failures) or 4 (all skipped).
#
# Runs every test binary make compiled on the host (go test -c) into
# build/go/tests/ (NAME.test), each in the directory of its package, with
# -test.v (and the arguments in NAME.test.args, if any), and turns each "--- PASS/FAIL/SKIP" line (tests, subtests and
# examples) into a TAP line. A binary that fails without a "--- FAIL"
# line (a panic, a timeout) counts as one error. Extra arguments go to
# every binary (-test.run REGEXP).
here=$(cd "$(dirname "$0")" && pwd) || exit 1
top=$here
while [ "$top" != / ] && [ ! -f "$top/uapi/linux/ctxfd.h" ]; do top=$(dirname "$top"); done
tests=$top/build/go/tests

if [ ! -e /dev/ctxfd ]; then
	echo "1..0 # SKIP /dev/ctxfd missing: ctxfd.ko not loaded"
	echo "# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:1 error:0"
	exit 4
fi
set -- "$tests"/*.test "--" "$@"
if [ ! -x "$1" ]; then
	echo "1..0 # no Go test binaries in $tests (make selftests)"
	echo "# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:0 error:1"
	exit 1
fi

echo "TAP version 13"
out=$(mktemp) || exit 1
trap 'rm -f "$out"' EXIT
n=0 pass=0 fail=0 skip=0 error=0
bins=
while [ "$1" != "--" ]; do bins="$bins $1"; shift; done
shift
for bin in $bins; do
	name=$(basename "$bin" .test)
	# The package's directory (for testdata and relative paths).
	dir=$(cat "$bin.dir" 2>/dev/null || echo "$top")
	# Extra arguments of this binary (a second toolchain's runs only the
	# tests of what it builds differently).
	extra=$(cat "$bin.args" 2>/dev/null)
	echo "# ==== $name $extra"
	# shellcheck disable=SC2086
	(cd "$dir" && "$bin" -test.v -test.timeout 10m $extra "$@") > "$out" 2>&1
	rc=$?
	while IFS= read -r line; do
		case "$line" in
		*"--- PASS: "*|*"--- FAIL: "*|*"--- SKIP: "*)
			rest=${line#*--- }
			verdict=${rest%%:*}
			test=${rest#*: }
			test=${test% (*}
			n=$((n + 1))
			case "$verdict" in
			PASS) pass=$((pass + 1)); echo "ok $n $name.$test" ;;
			FAIL) fail=$((fail + 1)); echo "not ok $n $name.$test" ;;
			SKIP) skip=$((skip + 1)); echo "ok $n $name.$test # SKIP" ;;
			esac ;;
		*) echo "# $line" ;;
		esac
	done < "$out"
	if [ "$rc" != 0 ] && ! grep -q -- '--- FAIL: ' "$out"; then
		error=$((error + 1))
		echo "# $name exited $rc without a failed test: one error"
	fi
done
echo "1..$n"
echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:$skip error:$error"
[ "$fail" = 0 ] && [ "$error" = 0 ] || exit 1
[ "$pass" = 0 ] && [ "$skip" != 0 ] && exit 4
exit 0
