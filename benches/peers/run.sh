#!/usr/bin/env bash
# Run rotp, BEAM and the Rust actor runtimes on the suite's benchmarks, in
# interleaved rounds, and print one table of median rates with min-max.
#
#   benches/peers/run.sh [bench...] [--n N] [--workers W] [--rounds R]
#                        [--impls rotp,beam,ractor,kameo,actix,floor]
#                        [--timeout SECS] [--raw FILE]
#
# bench...   default: every bench of the suite; each implementation runs
#            those it has (`—` in the table where it has none).
# --n        n for every bench (default: each bench's suite default).
# --workers  worker threads / schedulers / arbiters (default: nproc).
# --rounds   rounds (default 5); each round runs every bench once per
#            implementation, the implementations in an order rotated by one
#            each round, so that no one always runs first or last.
# --impls    the implementations to run (default: all six).
# --timeout  seconds one run may take before it is killed (default 600).
# --raw      also keep the result lines in FILE (default: a temporary file).
#
# Result lines go to the raw file; the table goes to stdout; progress to stderr.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"

die() { echo "run.sh: $*" >&2; exit 1; }
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}" >&2; exit 2; }

suite_benches=(pingpong ring spawn cast_throughput call_latency call_external
               call_parallel supervisor_restart fairness timers)
peers=(ractor kameo actix)

benches=() n= workers=$(nproc) rounds=5 run_timeout=600 raw=
impls=(rotp beam "${peers[@]}" floor)
while [ $# -gt 0 ]; do
    case $1 in
        --n) n=${2:?--n needs a value}; n=${n//_/}; shift 2 ;;
        --workers) workers=${2:?--workers needs a value}; shift 2 ;;
        --rounds) rounds=${2:?--rounds needs a value}; shift 2 ;;
        --timeout) run_timeout=${2:?--timeout needs a value}; shift 2 ;;
        --raw) raw=${2:?--raw needs a file}; shift 2 ;;
        --impls) IFS=, read -r -a impls <<<"${2:?--impls needs a list}"; shift 2 ;;
        -h|--help) usage ;;
        -*) echo "run.sh: unknown flag $1" >&2; usage ;;
        *) benches+=("$1"); shift ;;
    esac
done
for v in "$workers" "$rounds" "$run_timeout" ${n:+"$n"}; do
    [[ $v =~ ^[1-9][0-9]*$ ]] || die "expected a positive integer, got '$v'"
done
if [ ${#benches[@]} -eq 0 ] || [ "${benches[*]}" = all ]; then
    benches=("${suite_benches[@]}")
fi
for i in "${impls[@]}"; do
    case $i in rotp|beam|ractor|kameo|actix|floor) ;; *) die "unknown impl $i" ;; esac
done
for b in "${benches[@]}"; do
    [[ " ${suite_benches[*]} " == *" $b "* ]] || die "unknown bench $b (one of: ${suite_benches[*]})"
done

# ---- build everything first, so no build is timed or killed ----

peer_bin=$here/target/release
echo "run.sh: building" >&2
if [[ " ${impls[*]} " == *" rotp "* ]]; then
    cargo bench -q --bench suite --no-run 2>&1 | grep -v '^ *Executable' >&2 || true
fi
cargo build -q --release --manifest-path "$here/Cargo.toml" >&2
if [[ " ${impls[*]} " == *" beam "* ]] && ! command -v erl >/dev/null; then
    echo "run.sh: erl not found (apt-get install erlang-nox): BEAM skipped" >&2
    impls=("${impls[@]/beam}")
fi

# supported IMPL BENCH: whether IMPL has BENCH.
declare -A has
for i in "${impls[@]}"; do
    case $i in
        rotp|beam) for b in "${suite_benches[@]}"; do has[$i:$b]=1; done ;;
        '') ;;
        *) for b in $("$peer_bin/bench-$i" --list); do has[$i:$b]=1; done ;;
    esac
done

flags=()
[ -z "$n" ] || flags+=(--n "$n")
flags+=(--workers "$workers")

# run IMPL BENCH: one run; appends its result line to the raw file, or
# `bench=BENCH impl=IMPL failed|timeout`.
run() {
    local cmd out status line
    case $1 in
        rotp) cmd=(cargo bench -q --bench suite -- "$2") ;;
        beam) cmd=("$root/benches/erlang/run.sh" "$2") ;;
        *) cmd=("$peer_bin/bench-$1" "$2") ;;
    esac
    # timeout signals the whole process group (cargo and the suite it runs).
    out=$(timeout -k 10 "$run_timeout" "${cmd[@]}" "${flags[@]}") && status=0 || status=$?
    line=$(grep -m1 '^bench=' <<<"$out" || true)
    if [ "$status" -eq 0 ] && [ -n "$line" ]; then
        echo "$line" >>"$raw"
    elif [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
        echo "run.sh: $1 $2 timed out after ${run_timeout}s" >&2
        echo "bench=$2 impl=$1 timeout" >>"$raw"
    else
        echo "run.sh: $1 $2 failed (exit $status)" >&2
        echo "bench=$2 impl=$1 failed" >>"$raw"
    fi
}

raw=${raw:-$(mktemp "${TMPDIR:-/tmp}/rotp-peers.XXXXXX")}
: >"$raw"
echo "run.sh: result lines in $raw" >&2

machine() {
    local cpu
    cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -1)
    echo "machine: ${cpu:-unknown CPU}, $(nproc) CPUs, $(uname -sr)," \
        "$(awk '/MemTotal/ { printf "%.0f GiB RAM", $2 / 1048576 }' /proc/meminfo 2>/dev/null)"
    echo "tools: $(rustc --version)$(command -v erl >/dev/null &&
        echo ", OTP $(erl -noshell -eval 'io:put_chars(erlang:system_info(otp_release)), halt().')")"
}

started=$(date -u '+%Y-%m-%d %H:%M UTC')
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
active=()
for i in "${impls[@]}"; do [ -z "$i" ] || active+=("$i"); done
count=${#active[@]}
for ((r = 0; r < rounds; r++)); do
    order=()
    for ((k = 0; k < count; k++)); do order+=("${active[(k + r) % count]}"); done
    for b in "${benches[@]}"; do
        for i in "${order[@]}"; do
            [ -n "${has[$i:$b]:-}" ] || continue
            echo "run.sh: round $((r + 1))/$rounds $b $i" >&2
            run "$i" "$b"
        done
    done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- the table ----

echo "## rotp, BEAM and Rust actor runtimes"
echo
echo "$(machine)"
echo "run: $started, rounds=$rounds, workers=$workers, n=${n:-suite defaults}," \
    "load average before $load_before, after $load_after"
echo
awk -v benches="${benches[*]}" -v impls="${active[*]}" -v rounds="$rounds" '
function fmt(x) {
    if (x >= 1e6) return sprintf("%.2f M", x / 1e6)
    if (x >= 1e3) return sprintf("%.1f k", x / 1e3)
    return sprintf("%.0f", x)
}
function num(x) {
    if (x >= 100) return sprintf("%.0f", x)
    if (x >= 1) return sprintf("%.2f", x)
    return sprintf("%.3f", x)
}
# sorted copy of the values of KEY in vals[KEY, 1..cnt[KEY]] into s[1..]
function sorted(key, s,    m, i, j, t) {
    m = cnt[key]
    for (i = 1; i <= m; i++) s[i] = vals[key, i]
    for (i = 2; i <= m; i++) {
        t = s[i]
        for (j = i - 1; j >= 1 && s[j] > t; j--) s[j + 1] = s[j]
        s[j + 1] = t
    }
    return m
}
function median(s, m) { return m % 2 ? s[(m + 1) / 2] : (s[m / 2] + s[m / 2 + 1]) / 2 }
function add(key, v) { vals[key, ++cnt[key]] = v + 0; seen[key] = 1 }
{
    b = ""; i = ""; rate = ""; extra = ""; nrun = ""
    for (f = 1; f <= NF; f++) {
        split($f, kv, "=")
        if (kv[1] == "bench") b = kv[2]
        else if (kv[1] == "impl") i = kv[2]
        else if (kv[1] == "rate") rate = kv[2]
        else if (kv[1] == "n") nrun = kv[2]
        else if (kv[1] == "extra") extra = kv[2]
    }
    if ($NF == "failed" || $NF == "timeout" || rate == "") { failed[b, i]++; why[b, i] = $NF; next }
    add(b SUBSEP i SUBSEP "rate", rate)
    if (nrun != "") {
        if (!(b in nof)) nof[b] = nrun
        else if (nof[b] != nrun) nof[b] = "mixed"
    }
    ne = split(extra, pairs, ",")
    for (e = 1; e <= ne; e++) {
        split(pairs[e], p, ":")
        if (p[1] ~ /^(bytes_per_proc|rss_per_proc|exit_secs|p50_us|p99_us|default_ns_per_call|raw_ns_per_call|arm_cancel_per_core)$/) {
            add(b SUBSEP i SUBSEP p[1], p[2])
            keys[b, i, p[1]] = 1
        }
    }
}
END {
    nb = split(benches, B, " ")
    ni = split(impls, I, " ")
    printf "Median rate in operations per second over %d round(s) (min–max); the unit of each bench is the suite'"'"'s.\n\n", rounds
    hdr = "| bench | n |"; sep = "|---|---|"
    for (k = 1; k <= ni; k++) { hdr = hdr " " I[k] " |"; sep = sep "---|" }
    print hdr " rotp / BEAM | rotp / best peer | rotp / floor |"
    print sep "---|---|---|"
    note = 0
    for (x = 1; x <= nb; x++) {
        b = B[x]
        row = "| " b " | " (b in nof ? nof[b] : "") " |"
        delete med
        for (k = 1; k <= ni; k++) {
            i = I[k]; key = b SUBSEP i SUBSEP "rate"
            if (key in seen) {
                m = sorted(key, s); med[i] = median(s, m)
                cell = fmt(med[i]) " (" fmt(s[1]) "–" fmt(s[m]) ")"
                if (m < rounds) cell = cell " [" m " runs]"
                if (b == "supervisor_restart" && i == "actix") { cell = cell " ¹"; note = 1 }
            } else if ((b, i) in failed) {
                cell = why[b, i]
            } else {
                cell = "—"
            }
            if (((b, i) in failed) && (key in seen)) cell = cell " (" failed[b, i] " " why[b, i] ")"
            row = row " " cell " |"
        }
        best = 0; who = ""
        for (k = 1; k <= ni; k++) {
            i = I[k]
            if (i == "rotp" || i == "beam" || i == "floor" || !(i in med)) continue
            # actix restarts the same value after a stop, not a crashed actor.
            if (b == "supervisor_restart" && i == "actix") continue
            if (med[i] > best) { best = med[i]; who = i }
        }
        r1 = ("rotp" in med && "beam" in med && med["beam"] > 0) ? sprintf("%.2f×", med["rotp"] / med["beam"]) : "—"
        r2 = ("rotp" in med && best > 0) ? sprintf("%.2f× (%s)", med["rotp"] / best, who) : "—"
        r3 = ("rotp" in med && "floor" in med && med["floor"] > 0) ? sprintf("%.2f×", med["rotp"] / med["floor"]) : "—"
        print row " " r1 " | " r2 " | " r3 " |"
    }
    if (note) {
        print ""
        print "¹ actix'"'"'s `Supervisor` restarts the same actor value after it stops (a panic would take"
        print "its arbiter down); it is not counted as a peer that restarts a crashed actor."
    }
    # Extras, where any implementation reported them.
    out = ""
    for (x = 1; x <= nb; x++) {
        b = B[x]
        for (k = 1; k <= ni; k++) {
            i = I[k]
            line = ""
            n2 = split("bytes_per_proc rss_per_proc exit_secs p50_us p99_us default_ns_per_call raw_ns_per_call arm_cancel_per_core", K, " ")
            for (q = 1; q <= n2; q++) {
                if (!((b, i, K[q]) in keys)) continue
                m = sorted(b SUBSEP i SUBSEP K[q], s)
                line = line (line == "" ? "" : ", ") K[q] " " num(median(s, m)) " (" num(s[1]) "–" num(s[m]) ")"
            }
            if (line != "") out = out "| " b " | " i " | " line " |\n"
        }
    }
    if (out != "") {
        print ""
        print "Extras (median, min–max):"
        print ""
        print "| bench | impl | extras |"
        print "|---|---|---|"
        printf "%s", out
    }
}' "$raw"
