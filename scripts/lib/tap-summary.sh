# Shared by scripts/test.sh (sourced, not run): the closing lines of a test run, read from the
# workspaces' TAP copies (node's `--test-reporter=tap`, scripts/package-tests.sh).
#
# tap_sum FIELD FILE…    the sum of one summary field (`pass`, `fail`, `tests`, …) over FILEs
#                        (each file's last `# FIELD N` line; a file without one counts 0).
# tap_failures FILE…     one line per failed test, parents failing only through a subtest left
#                        out, at most 30:
#                          FAILED  <workspace>: <test> -- <error's first line> (<file:line:column>)
#                        <workspace> is the FILE's path before `/.test-results/`. Always exits 0.

tap_sum() {
  local field=$1 f total=0 n
  shift
  for f in "$@"; do
    [[ -f $f ]] || continue
    n=$(sed -n "s/^# $field \([0-9]*\)\$/\1/p" "$f" | tail -n 1)
    total=$((total + ${n:-0}))
  done
  echo "$total"
}

tap_failures() {
  local f
  for f in "$@"; do
    [[ -f $f ]] || continue
    awk -v where="${f%%/.test-results/*}" '
      function report() {
        if (name != "" && type != "subtestsFailed") printf "FAILED  %s: %s -- %s (%s)\n", where, name, error, location
        name = ""
      }
      /^ *not ok [0-9]+ - / { report(); name = $0; sub(/^ *not ok [0-9]+ - /, "", name); type = ""; error = ""; location = ""; block = 0; next }
      name == "" { next }
      block { line = $0; sub(/^ */, "", line); error = line; block = 0; next }
      /^ *failureType: / { type = $0; sub(/^ *failureType: /, "", type); gsub(/\047/, "", type); next }
      /^ *location: / { location = $0; sub(/^ *location: /, "", location); gsub(/\047/, "", location); next }
      /^ *error: [|>]/ { block = 1; next }
      /^ *error: / {
        error = $0; sub(/^ *error: /, "", error)
        # A quoted YAML scalar: without its quotes.
        if (error ~ /^\047.*\047$/ || error ~ /^".*"$/) error = substr(error, 2, length(error) - 2)
        next
      }
      /^ *[.][.][.]$/ { report() }
      END { report() }
    ' "$f"
  done | head -n 30 || true
}
