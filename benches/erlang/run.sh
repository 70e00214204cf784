#!/usr/bin/env bash
# Compile and run the BEAM versions of the benchmark suite.
#
#   benches/erlang/run.sh [bench|all] [--n N] [--workers W]   (default: all)
#
# Flags mirror `cargo bench --bench suite -- <bench> [--n N] [--workers W]`;
# --workers sets the number of schedulers (erl +S W:W). Further emulator flags
# can be given in ERL_FLAGS. Result lines go to stdout, progress to stderr.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
usage() { echo "usage: $0 [bench|all] [--n N] [--workers W]" >&2; exit 2; }

if ! command -v erl >/dev/null || ! command -v erlc >/dev/null; then
    echo "$0: erl not found; install erlang: apt-get install erlang-nox" >&2
    exit 1
fi

bench=all n= workers=
while [ $# -gt 0 ]; do
    case $1 in
        --n) n=${2:?--n needs a value}; n=${n//_/}; [[ $n =~ ^[0-9]+$ ]] || usage; shift 2 ;;
        --workers) workers=${2:?--workers needs a value}; shift 2 ;;
        -*) usage ;;
        *) bench=$1; shift ;;
    esac
done

ebin=$here/_build
mkdir -p "$ebin"
erlc -Wall -o "$ebin" "$here"/*.erl

# spawn and timers keep up to n processes alive at once (default n: 1,000,000).
procs=2097152
case $bench in
    spawn|timers|all) if [ -n "$n" ] && [ "$n" -gt 1000000 ]; then procs=$((2 * n)); fi ;;
esac

flags=(+P "$procs")
# The registry benchmarks use Elixir's Registry: put Elixir's code on the
# path when Elixir is installed (apt-get install elixir).
for d in /usr/lib/elixir/lib/elixir/ebin /usr/local/lib/elixir/lib/elixir/ebin; do
    [ -d "$d" ] && flags+=(-pa "$d") && break
done
[ -z "$workers" ] || flags+=(+S "$workers:$workers")

exec erl -noshell "${flags[@]}" -pa "$ebin" -run rotp_bench main "$bench" $n -s init stop
