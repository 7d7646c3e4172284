#!/usr/bin/env bash
# step.sh NAME COMMAND...: run COMMAND with its output shown and kept in build/logs/NAME.log, and append
# "NAME<TAB>seconds<TAB>exit status" to build/logs/steps.tsv for scripts/test_summary.py.
set -uo pipefail
name=$1
shift
mkdir -p build/logs
start=$(date +%s)
"$@" 2>&1 | tee "build/logs/$name.log"
status=${PIPESTATUS[0]}
printf '%s\t%s\t%s\n' "$name" "$(($(date +%s) - start))" "$status" >>build/logs/steps.tsv
exit "$status"
