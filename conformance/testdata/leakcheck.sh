#!/usr/bin/env bash
# Leak proof (README "Reliability"): after a normal run, after a run
# interrupted with Ctrl-C in the middle of the matrix, and after `kill -9`
# of a run once the next run has started (which sweeps the leftovers), no
# container, network or volume of those runs may remain. Counts are per run
# id (the label io.interop-suite.run), so other runs sharing the engine do
# not disturb the proof. Usage, from the repository root:
#   bash conformance/testdata/leakcheck.sh [IMPL]      (default IMPL: python)
set -uo pipefail
cd "$(dirname "$0")/../.."
impl="${1:-python}"
export TESTCONTAINERS_RYUK_DISABLED=true INTEROP_DEPTH=smoke INTEROP_ONLY="$impl"
work=$(mktemp -d)
status=0

count() { # run-id -> "containers networks volumes"
  local f="label=io.interop-suite.run=$1"
  echo "$(docker ps -aq --filter "$f" | wc -l) $(docker network ls -q --filter "$f" | wc -l) $(docker volume ls -q --filter "$f" | wc -l)"
}
run_id_of_live() { # the run id of containers started by the suite under $1 (a results folder)
  docker ps --filter label=io.interop-suite=1 --format '{{.Label "io.interop-suite.run"}} {{.Label "io.interop-suite.owner"}}' |
    while read -r id owner; do
      pid=${owner%%:*}
      if [ -n "$pid" ] && [ -r "/proc/$pid/environ" ] && tr '\0' ' ' < "/proc/$pid/environ" 2>/dev/null | grep -q "INTEROP_RESULTS=$1"; then echo "$id"; break; fi
    done
}
wait_for_cells() { # results folder -> run id, once containers of that run exist
  local live
  for _ in $(seq 1 600); do
    live=$(run_id_of_live "$1")
    if [ -n "$live" ] && [ -d "$1/cells" ]; then echo "$live"; return 0; fi
    sleep 1
  done
  return 1
}
start_run() { # name -> sets pgid and id once the run (in its own process group) has cells running
  # Standard depth: minutes of cells, so the interruption lands in the
  # middle of the matrix (a smoke run of one implementation now ends
  # within seconds, before it).
  INTEROP_DEPTH=standard INTEROP_RESULTS="$work/$1" setsid go tool ginkgo -p --procs=2 ./conformance > "$work/$1.log" 2>&1 &
  pgid=$!
  id=$(wait_for_cells "$work/$1") || { echo "leakcheck: run $1 never started cells"; exit 1; }
}
interrupt() { # signal: to the run's process group, which must still be running
  if ! kill "-$1" -- "-$pgid" 2>/dev/null; then
    echo "leakcheck: run $id had ended before SIG$1: this check proves nothing"; status=1
  fi
}
verdict() { # name run-id
  local c; c=$(count "$2")
  if [ "$c" = "0 0 0" ]; then echo "leakcheck: $1: run $2: 0 containers, 0 networks, 0 volumes left"
  else echo "leakcheck: $1: run $2: LEFT (containers networks volumes) = $c"; status=1; fi
}

sections="${LEAKCHECK_SECTIONS:-1 2 3}" # e.g. LEAKCHECK_SECTIONS=3
want() { [[ " $sections " == *" $1 "* ]]; }

if want 1; then
echo "== 1. a normal run"
INTEROP_RESULTS="$work/normal" go tool ginkgo -p --procs=2 ./conformance > "$work/normal.log" 2>&1
id=$(sed -n 's/.*"run_id": *"\([^"]*\)".*/\1/p' "$work/normal/results.json" | head -1)
verdict "normal run" "$id"
fi

if want 2; then
echo "== 2. Ctrl-C in the middle of the matrix"
start_run sigint
sleep 5
echo "   interrupting run $id (process group $pgid) with SIGINT"
interrupt INT
wait "$pgid"
verdict "Ctrl-C" "$id"
fi

if want 3; then
echo "== 3. kill -9, then the next run sweeps"
start_run killed
sleep 5
interrupt KILL
wait "$pgid" 2>/dev/null
killed=$id
echo "   killed run $killed: left behind (containers networks volumes) = $(count "$killed")"
start_run next
echo "   next run started: left behind by the killed run = $(count "$killed") (its in-flight creations may still land)"
kill -INT -- "-$pgid"; wait "$pgid"
verdict "kill -9, after the next run (which sweeps at its start and its end)" "$killed"
grep -h "removed .* left by an earlier run" "$work/next.log" | sort -u | sed 's/^/   next run: /'
fi

echo "== dangling images"
echo "   dangling images on the engine: $(docker images -q --filter dangling=true | wc -l)"
if [ $status -eq 0 ]; then rm -rf "$work"; else echo "leakcheck: logs kept in $work"; fi
exit $status
