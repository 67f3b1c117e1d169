#!/bin/sh
# Runs iamc (compiled and reference), Cedar and regorus on the generated workloads of
# shared/benchmark.md: tiers S1-S4, sizes 10 to 10,000 statements and 100,000 for iamc alone,
# mixes M1 and M3. Each engine runs on each workload in a child process of its own; every
# engine must agree with the reference evaluator (the correctness gate) or the run fails.
# Writes the "Peers: Cedar and regorus" section of BENCHMARKS.md (between the
# <!-- peers: begin --> and <!-- peers: end --> markers; the rest of the file is kept as is) and
# the plots benches/peers/peers-M1.svg and peers-M3.svg. Takes 15-30 minutes on 2 cores.
# Extra arguments go to the harness, e.g. `--sizes 10,100` or `--tiers S2 --mixes M1`.
# On a shared machine: `nice -n 10 benches/peers/run.sh`.
set -eu
cd "$(dirname "$0")/../.."
exec cargo run --release -p iamc-peers -- --write "$@"
