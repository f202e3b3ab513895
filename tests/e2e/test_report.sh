#!/usr/bin/env bash
# tools/fmnist_report.sh on a small synthetic work directory: the table's means and standard
# deviations over seeds, the CRC comparison between the qat stage and the deployment, infeasible
# searches, the plot; and a missing work directory refused without writing anything.
#   test_report.sh <path to tools/fmnist_report.sh>
set -euo pipefail
report=$1
w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

mkdir -p "$w/work/search" "$w/work/qat" "$w/work/deploy" "$w/out"
printf 'fp32_test_accuracy\t0.9205\nfp32_epochs\t8\n' > "$w/work/fp32.tsv"
search() {  # budget method bits bitops size_bits cpu
  printf 'method\t%s\nbudget\t%s\nbudget_value\t1\nfeasible\t1\nbits\t%s\nbitops\t%s\nsize_bits\t%s\nsearch_cpu_seconds\t%s\nnote\tx\n' \
    "$2" "$1" "$3" "$4" "$5" "$6" > "$w/work/search/$1_$2.tsv"
}
qat() {  # key seed fake crc
  printf 'bits\tx\nseed\t%s\nepochs\t1\nfake_quant_accuracy\t%s\ninteger_accuracy\t%s\ninteger_predictions_crc32\t%s\n' \
    "$2" "$3" "$3" "$4" > "$w/work/qat/$1_s$2.tsv"
}
deploy() {  # key seed accuracy crc single_us
  printf 'model x\nresults\tbits=%s\taccuracy=%s\tcorrect=1\timages=10000\tpredictions_crc32=%s\tbatched_us=1.0\tsingle_us=%s\n' \
    "$1" "$3" "$4" "$5" > "$w/work/deploy/$1_s$2.txt"
}
search bops2 uniform "W2A8 W2A2 W2A2 W2A2 W2A2" 4000000 40960 0
search bops2 ilp "W4A8 W2A2 W2A3 W2A2 W8A2" 3900000 50000 1.5
printf 'method\tguo\nbudget\tbops2\nfeasible\t0\nbits\t\nsearch_cpu_seconds\t7\n' > "$w/work/search/bops2_guo.tsv"
# uniform: 80, 82, 84 % (mean 82, sd 2); deployed CRCs all equal.
qat 2.8-2.2-2.2-2.2-2.2 0 0.80 aaaa0000; deploy 2.8-2.2-2.2-2.2-2.2 0 0.80 aaaa0000 321.5
qat 2.8-2.2-2.2-2.2-2.2 1 0.82 aaaa0001; deploy 2.8-2.2-2.2-2.2-2.2 1 0.82 aaaa0001 300
qat 2.8-2.2-2.2-2.2-2.2 2 0.84 aaaa0002; deploy 2.8-2.2-2.2-2.2-2.2 2 0.84 aaaa0002 300
# ilp: 85, 86 % (mean 85.5, sd 0.71); seed 1's deployment disagrees with its qat CRC.
qat 4.8-2.2-2.3-2.2-8.2 0 0.85 bbbb0000; deploy 4.8-2.2-2.3-2.2-8.2 0 0.85 bbbb0000 250
qat 4.8-2.2-2.3-2.2-8.2 1 0.86 bbbb0001; deploy 4.8-2.2-2.3-2.2-8.2 1 0.86 cccc0001 250

"$report" "$w/work" "$w/out/results.md" "$w/out/plot.svg" > /dev/null
md="$w/out/results.md"
grep -q "92.05 %" "$md" || fail "FP32 accuracy missing"
grep -F "| W2A2 BitOps | uniform | W2A8 W2A2 W2A2 W2A2 W2A2 | 4.00 | 5.0 | 0.0 | 82.00 ± 2.00 (n=3) | 82.00 ± 2.00 | 3 of 3 | 321.5 |" "$md" > /dev/null ||
  fail "uniform row wrong: $(grep uniform "$md")"
grep -F "| W2A2 BitOps | ilp | W4A8 W2A2 W2A3 W2A2 W8A2 | 3.90 | 6.1 | 1.5 | 85.50 ± 0.71 (n=2) | 85.50 ± 0.71 | 1 of 2 | 250 |" "$md" > /dev/null ||
  fail "ilp row wrong: $(grep '| ilp' "$md")"
grep -F "| W2A2 BitOps | guo | none |" "$md" | grep -q "no feasible allocation" || fail "infeasible row wrong"
grep -q "<svg" "$w/out/plot.svg" || fail "no SVG written"
grep -q "uniform" "$w/out/plot.svg" || fail "the plot has no uniform series"
[ "$(wc -l < "$w/out/results_runs.tsv")" -eq 7 ] || fail "runs table: expected a header and 6 rows"

# A missing work directory: an error naming it, nothing written.
rm -rf "$w/out2" && mkdir "$w/out2"
if "$report" "$w/nowhere" "$w/out2/results.md" "$w/out2/plot.svg" 2> "$w/err"; then fail "missing work dir accepted"; fi
grep -q "nowhere/fp32.tsv: not found" "$w/err" || fail "unclear error: $(cat "$w/err")"
[ -z "$(ls -A "$w/out2")" ] || fail "files written on error"
echo "fmnist_report: all checks passed"
