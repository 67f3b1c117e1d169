#!/bin/sh
# Runs iamc, Cedar and regorus on the generated workloads (tiers S1-S4, mixes M1 and M3), checks
# that they agree with the reference evaluator, and appends the table to BENCHMARKS.md.
# Extra arguments go to the harness, e.g. `--sizes 10,100,1000,10000`.
set -eu
cd "$(dirname "$0")/../.."
exec cargo run --release -p iamc-peers -- --write "$@"
