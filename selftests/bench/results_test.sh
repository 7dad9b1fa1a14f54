#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# build/selftests/bench/results_test: how make bench's results.py picks
# and flags attempts (tools/bench/results.py), on made-up attempts: a
# figure whose ratio spread is wide, or during which the host changed
# speed, is asked for again; merging keeps an attempt on a steady host
# before a tighter one on a host that moved; the drift is reported.
# TAP, a "# Totals:" line, exit 0 or 1.
top=$(cd "$(dirname "$0")" && pwd) || exit 1
while [ "$top" != / ] && [ ! -f "$top/uapi/linux/ctxfd.h" ]; do top=$(dirname "$top"); done
results=$top/tools/bench/results.py
dir=$(mktemp -d) || exit 1
trap 'rm -rf "$dir"' EXIT
unset CTXFD_BENCH_DRIFT

# attempt FILE FIG RATIO MIN MAX [DRIFT]: one row, figure FIG.
attempt() {
	speed=
	[ -n "${6:-}" ] && speed=", \"host_speed\": {\"before\": [100, 100], \"after\": [100, 100], \"drift_pct\": $6}"
	cat > "$1" <<JSON
{"kernel": "k", "figures": [{"figure": "$2", "what": "w", "unit": "ops/s",
 "value": 1, "baseline": 1, "ratio": $3, "target": ">= 0.9", "pass": true,
 "runs": 5, "ratio_min": $4, "ratio_max": $5$speed}]}
JSON
}

n=0 fails=0
check() {	# name expected actual
	n=$((n + 1))
	if [ "$2" = "$3" ]; then
		echo "ok $n $1"
	else
		echo "not ok $n $1"
		echo "#   expected '$2', got '$3'"
		fails=$((fails + 1))
	fi
}

echo "TAP version 13"
echo "1..8"

attempt "$dir/steady" 1 1.00 0.98 1.02
check steady_tight_figure_is_not_repeated "" \
	"$(python3 "$results" unsteady "$dir/steady" 0.10)"

attempt "$dir/wide" 1 1.00 0.80 1.20
check wide_spread_is_repeated 1 "$(python3 "$results" unsteady "$dir/wide" 0.10)"

attempt "$dir/moved" 6 1.00 0.99 1.01 -31.5
check host_speed_move_is_repeated 6 \
	"$(python3 "$results" unsteady "$dir/moved" 0.10)"
check host_speed_move_is_reported 6 "$(python3 "$results" drifted "$dir/moved")"

attempt "$dir/small" 6 1.00 0.99 1.01 9.0
check move_within_the_bound_is_not_repeated "" \
	"$(python3 "$results" unsteady "$dir/small" 0.10)"
check bound_comes_from_ctxfd_bench_drift 6 \
	"$(CTXFD_BENCH_DRIFT=5 python3 "$results" unsteady "$dir/small" 0.10)"

# A tight attempt while the host moved, a wider one while it did not.
attempt "$dir/a1" 6 1.10 1.09 1.11 40
attempt "$dir/a2" 6 0.97 0.92 1.02 2
python3 "$results" merge "$dir/merged" "$dir/a1" "$dir/a2"
check merge_keeps_the_steady_attempt 0.97 "$(python3 -c '
import json, sys
print(json.load(open(sys.argv[1]))["figures"][0]["ratio"])' "$dir/merged")"
check merge_records_each_attempts_drift "40.0 2.0" "$(python3 -c '
import json, sys
row = json.load(open(sys.argv[1]))["figures"][0]
print(" ".join(str(a["drift_pct"]) for a in row["attempts"]))' "$dir/merged")"

echo "# Totals: pass:$((n - fails)) fail:$fails xfail:0 xpass:0 skip:0 error:0"
[ "$fails" = 0 ]
