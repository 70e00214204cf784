#!/usr/bin/env bash
# Run the rotp suite and its BEAM counterpart side by side.
#
#   benches/compare.sh [bench...] [--n N] [--workers W] [--rounds R]
#
# For each bench (default: all of them) prints the rotp line, the beam line and
#   bench=<name> ratio=<rotp rate / beam rate>
# followed, where both lines have them, by the ns_per_rt / ns_per_call of each.
# With --rounds R (default 1) each bench runs R rotp/beam pairs in turn, so
# that a machine whose speed drifts slows both alike, and the summary line
# gives the median of the R paired ratios and each of them:
#   bench=<name> ratio=<median> ratios=<r1,r2,...>
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
die() { echo "compare.sh: $*" >&2; exit 1; }

command -v erl >/dev/null || die "erl not found; install erlang: apt-get install erlang-nox"

benches=() flags=() rounds=1
while [ $# -gt 0 ]; do
    case $1 in
        --n|--workers) flags+=("$1" "${2:?$1 needs a value}"); shift 2 ;;
        --rounds) rounds=${2:?--rounds needs a value}; shift 2
                  [[ $rounds =~ ^[1-9][0-9]*$ ]] || die "--rounds takes a positive count" ;;
        -*) die "usage: benches/compare.sh [bench...] [--n N] [--workers W] [--rounds R]" ;;
        *) benches+=("$1"); shift ;;
    esac
done
if [ ${#benches[@]} -eq 0 ] || [ "${benches[*]}" = all ]; then
    benches=(pingpong ring spawn cast_throughput call_latency call_external
             call_parallel supervisor_restart fairness timers
             registry_lookup registry_register table_read table_write read_through_server)
fi

# field LINE KEY: the value of KEY=..., or of KEY:... inside extra=.
field() {
    awk -v key="$2" '{
        for (i = 1; i <= NF; i++) {
            split($i, kv, "=")
            if (kv[1] == key) print kv[2]
            if (kv[1] == "extra") {
                n = split(kv[2], pairs, ",")
                for (j = 1; j <= n; j++) { split(pairs[j], p, ":"); if (p[1] == key) print p[2] }
            }
        }
    }' <<<"$1"
}

# ratio ROTP_LINE BEAM_LINE: rotp's rate over beam's.
ratio() {
    awk -v a="$(field "$1" rate)" -v b="$(field "$2" rate)" \
        'BEGIN { print (b > 0 ? sprintf("%.3f", a / b) : "inf") }'
}

failed=0
for b in "${benches[@]}"; do
    ratios=()
    for ((r = 1; r <= rounds; r++)); do
        if ! rotp=$(cargo bench -q --bench suite -- "$b" "${flags[@]}") ||
           ! beam=$(benches/erlang/run.sh "$b" "${flags[@]}"); then
            echo "compare.sh: $b failed, skipped" >&2
            failed=1
            continue 2
        fi
        echo "$rotp"
        echo "$beam"
        ratios+=("$(ratio "$rotp" "$beam")")
    done
    median=$(printf '%s\n' "${ratios[@]}" | sort -g |
        awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : sprintf("%.3f", (v[NR / 2] + v[NR / 2 + 1]) / 2)) }')
    line="bench=$b ratio=$median"
    if [ "$rounds" -gt 1 ]; then
        line+=" ratios=$(IFS=,; echo "${ratios[*]}")"
    else
        for key in ns_per_rt ns_per_call; do
            r=$(field "$rotp" $key) e=$(field "$beam" $key)
            [ -z "$r" ] || [ -z "$e" ] || line+=" rotp_$key=$r beam_$key=$e"
        done
    fi
    echo "$line"
done
exit $failed
