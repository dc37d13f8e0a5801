#!/bin/sh
# e2e.sh - run the four programs against each other on 127.0.0.1.
# Usage (from clients/c, after make): sh tests/e2e.sh
# Runs during `docker build` too (make check). Exits non-zero on the first failure.
set -eu

bin=$(pwd)/bin
work=$(mktemp -d)
port=$((20000 + $$ % 20000)) # away from other runs on a shared host
pids=""
trap 'for p in $pids; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT

fail() { echo "e2e: FAIL: $*" >&2; exit 1; }

# Start a server in the background and wait until its stderr says it listens.
start() {
    log=$1; shift
    "$@" >"$log.out" 2>"$log.err" &
    pids="$pids $!"
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        grep -q listening "$log.err" 2>/dev/null && return 0
        sleep 0.1
    done
    fail "$* did not start: $(cat "$log.err")"
}

# --- Hello ---
start "$work/hs" "$bin/hello-server" "$port"
reply=$("$bin/hello-client" localhost "$port") || fail "hello-client exited non-zero"
[ "$reply" = "Goodbye in C" ] || fail "hello-client printed '$reply'"
grep -qx "Hello in C" "$work/hs.out" || fail "hello-server did not print the message"

start "$work/hc" "$bin/hello-server" $((port + 1)) --challenge
reply=$("$bin/hello-client" 127.0.0.1 $((port + 1))) || fail "hello-client (challenge) exited non-zero"
[ "$reply" = "Goodbye C from C" ] || fail "challenge reply was '$reply'"
grep -qx "127.0.0.1" "$work/hc.out" || fail "challenge server did not print the client IP"

if "$bin/hello-client" 127.0.0.1 $((port + 2)) >/dev/null 2>"$work/refused.err"; then
    fail "hello-client exited 0 with no server"
fi
grep -q "could not connect" "$work/refused.err" || fail "no clear error: $(cat "$work/refused.err")"
echo "e2e: hello ok"

# --- RUDP: sizes around the packet boundaries, with and without sack ---
out="$work/out"
mkdir "$out"
for mode in "" "-k"; do
    rport=$((port + 3 + ${#mode}))
    (cd "$out" && exec "$bin/rudp-receiver" -p "$rport" -t 5 $mode) 2>"$work/rx$mode.err" &
    pids="$pids $!"
    for size in 0 1 1454 1455 2909 100000; do
        head -c "$size" /dev/urandom >"$work/in"
        "$bin/rudp-sender" -a localhost -p "$rport" -f "$work/in" $mode ||
            fail "rudp-sender $mode exited non-zero for $size bytes"
        got=$(ls "$out")
        [ "$(echo "$got" | wc -l)" = 1 ] || fail "expected one output file, got: $got"
        case "$got" in *.partial) fail "transfer of $size bytes left only $got" ;; esac
        cmp "$work/in" "$out/$got" || fail "$size bytes $mode: output differs"
        rm -f "$out/$got"
    done
    echo "e2e: rudp ${mode:-without sack} ok"
done

# stdin as input, and a fixed start seqno
head -c 5000 /dev/urandom >"$work/in"
"$bin/rudp-sender" -a 127.0.0.1 -p $((port + 3)) -s 0 <"$work/in" || fail "rudp-sender from stdin"
cmp "$work/in" "$out/$(ls "$out")" || fail "stdin transfer differs"

# No receiver: the sender must give up with a message and a non-zero exit.
if "$bin/rudp-sender" -a 127.0.0.1 -p $((port + 9)) -f "$work/in" -g 1 2>"$work/giveup.err"; then
    fail "rudp-sender exited 0 without a receiver"
fi
grep -q "giving up" "$work/giveup.err" || fail "no clear give-up message: $(cat "$work/giveup.err")"
echo "e2e: rudp stdin and give-up ok"

# SIGTERM: the receiver exits 0 and keeps the unfinished transfer as .partial,
# with what had arrived. The sender is stuck reading its slow stdin meanwhile.
mkdir "$work/term"
(cd "$work/term" && exec "$bin/rudp-receiver" -p $((port + 7))) 2>/dev/null &
rx=$!
(head -c 3000 /dev/urandom; sleep 3) | "$bin/rudp-sender" -a 127.0.0.1 -p $((port + 7)) &
tx=$!
pids="$pids $tx"
sleep 1
kill -TERM "$rx"
wait "$rx" || fail "rudp-receiver exited with status $? on SIGTERM"
partial=$(ls "$work/term")
case "$partial" in *.partial) ;; *) fail "expected one .partial file, got: $partial" ;; esac
[ -s "$work/term/$partial" ] || fail "$partial is empty: data not flushed on SIGTERM"
echo "e2e: rudp receiver SIGTERM ok"
