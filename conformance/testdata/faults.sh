#!/usr/bin/env bash
# Infrastructure-fault proof (README "Reliability"): a container removed
# from outside in the middle of a cell gives that cell an infrastructure
# error (never blamed on an implementation), the run goes on and still
# writes results.json. Usage, from the repository root:
#   bash conformance/testdata/faults.sh [IMPL]      (default IMPL: python)
set -uo pipefail
cd "$(dirname "$0")/../.."
impl="${1:-python}"
# loss-50 transfers last many seconds, so the removal lands inside a cell.
export TESTCONTAINERS_RYUK_DISABLED=true INTEROP_DEPTH=standard INTEROP_ONLY="$impl" INTEROP_SCENARIOS=loss-50
work=$(mktemp -d)
export INTEROP_RESULTS="$work/results"
setsid go tool ginkgo -p --procs=2 ./conformance > "$work/run.log" 2>&1 &
pgid=$!
victim=""
for _ in $(seq 1 900); do
  # A host container of the implementation under test while a cell runs.
  victim=$(docker ps --filter label=io.interop-suite=1 --format '{{.ID}} {{.Image}} {{.Label "io.interop-suite.owner"}}' |
    while read -r id image owner; do
      pid=${owner%%:*}
      case "$image" in *impl-$impl*) ;; *) continue ;; esac
      if tr '\0' ' ' < "/proc/$pid/environ" 2>/dev/null | grep -q "INTEROP_RESULTS=$INTEROP_RESULTS"; then echo "$id"; break; fi
    done)
  if [ -n "$victim" ] && [ -d "$INTEROP_RESULTS/cells" ]; then break; fi
  sleep 1
done
[ -n "$victim" ] || { echo "faults: no container of $impl appeared"; kill -INT -- "-$pgid"; exit 1; }
sleep 8
echo "faults: removing container $victim from outside, mid-cell, at $(date +%T)"
docker rm -f "$victim" > /dev/null
wait "$pgid"; echo "faults: the run exited with status $?"
if [ ! -f "$INTEROP_RESULTS/results.json" ]; then echo "faults: NO results.json"; exit 1; fi
python3 - "$INTEROP_RESULTS/results.json" <<'PY'
import json, sys, collections
run = json.load(open(sys.argv[1]))
count = collections.Counter(r["verdict"] for r in run["results"])
print("faults: results.json has", len(run["results"]), "cells:", dict(count))
for r in run["results"]:
    if r["verdict"] == "infra-error":
        print("faults: infra-error", r["id"], "blame:", r.get("blame") or "none", "|", r["reason"].splitlines()[0][:200])
bad = [r for r in run["results"] if r["verdict"] == "infra-error" and r.get("blame")]
sys.exit(1 if bad or count["infra-error"] == 0 else 0)
PY
status=$?
rm -rf "$work"
exit $status
