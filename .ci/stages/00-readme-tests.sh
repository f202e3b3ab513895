# The README's test command, taken from README.md and run unchanged.
cmd=$(sed -n 's/^\(\.\/tools\/test\.sh\)$/\1/p' README.md | head -1)
if [ "$cmd" != "./tools/test.sh" ]; then
  echo "ci: README.md must give ./tools/test.sh on a line of its own" >&2
  exit 1
fi
ci_run_counted $cmd
