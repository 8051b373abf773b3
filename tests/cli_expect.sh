#!/bin/sh
# cli_expect.sh CODE PATTERN CMD...: run CMD, require exit status CODE and PATTERN (grep -E) in its output.
code=$1 pattern=$2
shift 2
out=$("$@" 2>&1)
rc=$?
if [ "$rc" -ne "$code" ]; then
    echo "expected exit $code, got $rc from: $*"; echo "$out"; exit 1
fi
if ! printf '%s\n' "$out" | grep -Eq -e "$pattern"; then
    echo "output of '$*' lacks /$pattern/:"; echo "$out"; exit 1
fi
echo "ok: $*"
