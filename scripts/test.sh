#!/usr/bin/env bash
# The whole test suite, with the system tools some tests drive for real:
# Erlang/OTP (rotp-dist's tests start real Erlang nodes) and headless
# Chromium (the observer page's browser test). Installs what is missing
# (apt-get), then runs every test of every crate, with every feature.
# Extra arguments go to `cargo test`.
#
#   scripts/test.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

. scripts/ensure-tools.sh
ensure_erlang
ensure_chromium

cargo test --workspace --all-features "$@"
