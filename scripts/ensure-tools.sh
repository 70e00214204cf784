#!/usr/bin/env bash
# Installs the tools the test suite needs beyond the Rust toolchain, where
# they are missing. Source it and call the functions, or run it to ensure
# everything:
#
#   scripts/ensure-tools.sh            # all of them
#   . scripts/ensure-tools.sh && ensure_chromium
set -euo pipefail

# Headless Chromium, for the observer page's browser test
# (observer/tests/browser.rs).
ensure_chromium() {
    if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
        return 0
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "ensure_chromium: no chromium and no apt-get; install Chromium by hand" >&2
        return 1
    fi
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    echo "ensure_chromium: installing chromium" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
}

# Erlang/OTP 24 or later (erl, erlc, escript, epmd), for rotp-dist's tests
# (dist/tests/ start real Erlang nodes), its benchmark and
# examples/cluster.rs.
ensure_erlang() {
    if command -v erl >/dev/null 2>&1 && command -v erlc >/dev/null 2>&1; then
        return 0
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "ensure_erlang: no erl and no apt-get; install Erlang/OTP 24+ by hand" >&2
        return 1
    fi
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    echo "ensure_erlang: installing erlang-nox" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq erlang-nox >/dev/null
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    ensure_chromium
    ensure_erlang
fi
