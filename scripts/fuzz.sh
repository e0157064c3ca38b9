#!/usr/bin/env bash
# Run the cargo-fuzz targets of fuzz/ one after the other, one process each
# (the machine is shared), and print the executions and crashes of each.
#
#   scripts/fuzz.sh                      # 10 million runs of every target
#   scripts/fuzz.sh 100000               # a quick pass
#   scripts/fuzz.sh 10000000 env_file    # one target
#
# Needs cargo-fuzz (installed with `cargo install cargo-fuzz --locked` if
# missing) and a nightly compiler for the sanitizer flags: the `nightly`
# rustup toolchain when installed, else the stable one with RUSTC_BOOTSTRAP=1.
# FUZZ_SANITIZER picks the sanitizer (cargo fuzz -s): `none` by default,
# as the crate has no unsafe code of its own and the targets look for panics
# and broken invariants, which need no sanitizer; `address` runs 2-4 times
# slower.
# Corpora grow in fuzz/corpus/<target> (seeded from fuzz/seeds/<target>);
# logs go to fuzz/logs/<target>.log; a crash leaves its input in
# fuzz/artifacts/<target>/ and makes this script exit non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."

runs="${1:-10000000}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(deploy_key env_file selector import_file function_args env_set_file)
fi

if ! command -v cargo-fuzz >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi
toolchain=()
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  toolchain=(+nightly)
else
  export RUSTC_BOOTSTRAP=1
fi

mkdir -p fuzz/logs
status=0
for target in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$target"
  log="fuzz/logs/$target.log"
  echo "== $target: $runs runs (log: $log)"
  if cargo "${toolchain[@]}" fuzz run -O --debug-assertions \
      -s "${FUZZ_SANITIZER:-none}" "$target" \
      "fuzz/corpus/$target" "fuzz/seeds/$target" -- \
      -runs="$runs" -print_final_stats=1 -max_len=4096 -timeout=10 >"$log" 2>&1; then
    result="no crash"
  else
    result="CRASH (see $log and fuzz/artifacts/$target/)"
    status=1
  fi
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  secs=$(grep -o 'stat::slowest_unit_time_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  echo "$target: ${execs:-?} executions, $result (slowest input ${secs:-?} s)"
done
exit $status
