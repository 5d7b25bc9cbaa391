#!/bin/sh
# Build strata and its benchmark (RelWithDebInfo, no sanitizers) and run it.
#   tests/bench/run.sh                 N = 100, 1000, 10000; E = 1, 10
#   tests/bench/run.sh --quick         N = 100, 1000
#   tests/bench/run.sh --help          every option
# Figures go to stdout as markdown; progress to stderr.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${STRATA_BENCH_BUILD:-$root/build-bench}
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DSTRATA_SANITIZE=OFF -DSTRATA_TESTS=OFF -DSTRATA_BENCH=ON >/dev/null
cmake --build "$build" -j2 --target strata-cli strata-bench >/dev/null
exec "$build/tests/bench/strata-bench" "$@"
