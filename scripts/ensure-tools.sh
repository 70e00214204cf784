#!/usr/bin/env bash
# Tools some tests need, installed where they are missing. Source this file
# and call the functions you need, e.g.:
#
#   . scripts/ensure-tools.sh && ensure_erlang

# Erlang/OTP (erl, erlc, escript, epmd): rotp-dist's tests start real
# Erlang nodes, and its benchmark compares rotp with BEAM. Installs
# erlang-nox (apt) if `erl` is missing; OTP 24 or later is needed.
ensure_erlang() {
    if command -v erl >/dev/null 2>&1 && command -v erlc >/dev/null 2>&1; then
        return 0
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "ensure_erlang: erl not found and no apt-get; install Erlang/OTP 24+" >&2
        return 1
    fi
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq && $sudo apt-get install -y -qq erlang-nox >/dev/null
}

# When run rather than sourced: ensure everything.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -euo pipefail
    ensure_erlang
fi
