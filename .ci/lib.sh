# Sourced by every CI stage (.ci/stages/*.sh). Stages print "ci-counts <passed> <failed>" lines that
# .ci/run adds up; a stage that exits non-zero counts as one more failure.
set -euo pipefail
source tools/deps.sh

# ci_count_ctest_log <log>: print the ci-counts line for a ctest summary found in <log>.
ci_count_ctest_log() {
  local line
  line=$(grep -E "tests passed, [0-9]+ tests? failed out of [0-9]+" "$1" | tail -1 || true)
  if [ -z "$line" ]; then
    echo "ci: no ctest summary found" >&2
    return 1
  fi
  local failed total
  failed=$(echo "$line" | sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/')
  total=$(echo "$line" | sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\2/')
  echo "ci-counts $((total - failed)) ${failed}"
}

# ci_run_counted <command...>: run a command that ends with ctest, count its tests, keep its status.
ci_run_counted() {
  local log; log=$(mktemp)
  set +e
  "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  set -e
  ci_count_ctest_log "$log" || rc=1
  rm -f "$log"
  return "$rc"
}

# ci_ctest <build dir> [ctest args...]
ci_ctest() {
  local dir="$1"; shift
  ci_run_counted ctest --test-dir "$dir" --output-on-failure -j"$(mpq_jobs)" "$@"
}
