# libFuzzer on the packed-model loader for ~30 s (clang++-14, ASan + UBSan), starting from the seed
# corpus the replay tool writes. Any crash, sanitizer report or oracle failure fails the stage; the
# input that caused it is left in build/ci-fuzz/ (replay it with tests/fuzz/mpq_fuzz_replay FILE).
mpq_install_packages ${MPQ_PKGS_TEST}
dir="${MPQ_FUZZ_BUILD_DIR:-build/ci-fuzz}"
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++-14 \
  -DMPQ_BUILD_BENCHMARKS=OFF -DMPQ_BUILD_EXAMPLES=OFF
cmake --build "$dir" -j"$(mpq_jobs)" --target mpq_fuzz_load_model mpq_fuzz_replay
corpus="$dir/fuzz-corpus"
rm -rf "$corpus" && mkdir -p "$corpus"
"$dir/tests/fuzz/mpq_fuzz_replay" --write-seeds "$corpus"
# libFuzzer's per-input lines go to a file (they would bury the CI summary); its last lines are shown.
fuzz_log="$dir/fuzz.log"
set +e
"$dir/tests/fuzz/mpq_fuzz_load_model" -max_total_time="${MPQ_FUZZ_SECONDS:-30}" -timeout=10 -rss_limit_mb=2048 \
  -max_len=65536 -print_final_stats=1 -print_pcs=0 -artifact_prefix="$dir/" "$corpus" > "$fuzz_log" 2>&1
rc=$?
set -e
grep -vE "^#[0-9]+|^\"|Uses: " "$fuzz_log" | tail -40
if [ "$rc" -ne 0 ]; then
  echo "fuzz: libFuzzer exited with $rc; the full log is $fuzz_log"
  echo "ci-counts 0 1"
  exit 1
fi
echo "ci-counts 1 0"
