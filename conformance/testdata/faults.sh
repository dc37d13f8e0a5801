#!/usr/bin/env bash
# Infrastructure-fault proof (README "Reliability"): a container removed
# from outside in the middle of a cell gives that cell an infrastructure
# error (never blamed on an implementation), the run goes on and still
# writes results.json. Usage, from the repository root:
#   bash conformance/testdata/faults.sh
#
# The victim is the host container of the fixture hostile-hang as a Hello
# client: that program never exits, so its cell is certainly still running
# when the container is removed (a real implementation's cell may end
# first, and then the removal proves nothing). Without the removal the
# cell would fail, blamed on the client (its time limit); with it, the
# cell must be an infrastructure error with no blame, and the run's other
# cell (the same fixture as server) must still get its own verdict.
set -uo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/impls" "$work/no-clients"
cp -r conformance/testdata/fixtures/hostile-hang "$work/impls/"
cp conformance/testdata/fixtures/fixture.py "$work/impls/hostile-hang/"
export TESTCONTAINERS_RYUK_DISABLED=true INTEROP_DEPTH=smoke INTEROP_SCENARIOS=tcp-clean \
  INTEROP_CLIENTS_DIR="$work/no-clients" INTEROP_IMPLS="$work/impls/hostile-hang" INTEROP_ONLY=hostile-hang \
  INTEROP_RESULTS="$work/results" INTEROP_PROGRESS=0
setsid go tool ginkgo --procs=1 ./conformance > "$work/run.log" 2>&1 &
pgid=$!
victim=""
for _ in $(seq 1 900); do
  # The pool host of hostile-hang's client side, created by this run.
  victim=$(docker ps --filter label=io.interop-suite.cell=pool/client-hostile-hang \
      --format '{{.ID}} {{.Label "io.interop-suite.owner"}}' |
    while read -r id owner; do
      pid=${owner%%:*}
      if tr '\0' ' ' < "/proc/$pid/environ" 2>/dev/null | grep -q "INTEROP_RESULTS=$INTEROP_RESULTS"; then echo "$id"; break; fi
    done)
  [ -n "$victim" ] && break
  sleep 0.5
done
[ -n "$victim" ] || { echo "faults: no host container of hostile-hang's client appeared"; tail -30 "$work/run.log"; kill -INT -- "-$pgid"; exit 1; }
sleep 3 # the client program has been started and hangs
echo "faults: removing container $victim from outside, mid-cell, at $(date +%T)"
docker rm -f "$victim" > /dev/null
wait "$pgid"; echo "faults: the run exited with status $? (non-zero expected: the results are unexpected)"
if [ ! -f "$INTEROP_RESULTS/results.json" ]; then echo "faults: NO results.json"; tail -30 "$work/run.log"; exit 1; fi
python3 - "$INTEROP_RESULTS/results.json" <<'PY'
import json, sys
run = json.load(open(sys.argv[1]))
by = {r["id"]: r for r in run["results"]}
print("faults: results.json has", len(by), "cells")
for r in by.values():
    print("faults: %-45s %-12s blame=%-7s %s" % (r["id"], r["verdict"], r.get("blame") or "none", r["reason"].splitlines()[0][:160]))
ok = True
victim = by.get("hello/hostile-hang-x-reference/tcp-clean/seed-1")
if not victim or victim["verdict"] != "infra-error" or victim.get("blame"):
    print("faults: FAIL: the cell whose container was removed is not an unblamed infra-error"); ok = False
other = by.get("hello/reference-x-hostile-hang/tcp-clean/seed-1")
if not other or other["verdict"] != "fail" or other.get("blame") != "server":
    print("faults: FAIL: the other cell did not get its own verdict (fail, blamed on the server)"); ok = False
print("faults:", "OK" if ok else "FAILED")
sys.exit(0 if ok else 1)
PY
