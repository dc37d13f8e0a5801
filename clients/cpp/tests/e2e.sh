#!/bin/sh
# e2e.sh - the programs end to end over loopback, started as interop.json
# starts them: Hello client against Hello server (plain and challenge), and
# RUDP transfers of binary files (empty, one packet, 200 KiB) with and
# without -k, several at once into one receiver. Run from the folder: `sh tests/e2e.sh`.
set -eu
BIN=$(cd "$(dirname "$0")/.." && pwd)/bin
WORK=$(mktemp -d)
PIDS=""
cleanup() {
    for pid in $PIDS; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM
fail() { echo "e2e: FAIL: $*" >&2; exit 1; }
# A port from the ephemeral range that nothing else is likely to use.
port() { echo $(( 20000 + ($$ * 7 + $1) % 20000 )); }

# -- Hello ---------------------------------------------------------------
HP=$(port 1)
"$BIN/hello" server "$HP" >"$WORK/server.out" 2>"$WORK/server.err" &
PIDS="$PIDS $!"
CP=$(port 2)
"$BIN/hello" server "$CP" --challenge >"$WORK/challenge.out" 2>"$WORK/challenge.err" &
PIDS="$PIDS $!"
sleep 0.3
reply=$("$BIN/hello" client localhost "$HP") || fail "hello client exited $?"
[ "$reply" = "Goodbye in C++" ] || fail "hello reply '$reply'"
grep -qx "Hello in C++" "$WORK/server.out" || fail "server printed: $(cat "$WORK/server.out")"
reply=$("$BIN/hello" client 127.0.0.1 "$CP") || fail "challenge client exited $?"
[ "$reply" = "Goodbye C++ from C++" ] || fail "challenge reply '$reply'"
grep -qx "127.0.0.1" "$WORK/challenge.out" || fail "challenge server printed no address"
if "$BIN/hello" client 127.0.0.1 "$(port 3)" 2>"$WORK/refused.err"; then
    fail "client exited 0 with nothing listening"
fi
[ -s "$WORK/refused.err" ] || fail "refused client said nothing on stderr"
echo "e2e: hello ok"

# -- RUDP ----------------------------------------------------------------
RP=$(port 4)
KP=$(port 5)
mkdir "$WORK/in" "$WORK/plain" "$WORK/sack"
: >"$WORK/in/empty"
printf 'one|packet\000\377' >"$WORK/in/one"
head -c 204800 /dev/urandom >"$WORK/in/big"
(cd "$WORK/plain" && exec "$BIN/rudp-receiver" -p "$RP" -t 10 2>"$WORK/plain.err") &
PIDS="$PIDS $!"
(cd "$WORK/sack" && exec "$BIN/rudp-receiver" -p "$KP" -t 10 -k 2>"$WORK/sack.err") &
PIDS="$PIDS $!"
sleep 0.3
senders=""
for f in empty one big; do
    "$BIN/rudp-sender" -a localhost -p "$RP" -f "$WORK/in/$f" & senders="$senders $!"
    "$BIN/rudp-sender" -a 127.0.0.1 -p "$KP" -k -f "$WORK/in/$f" & senders="$senders $!"
done
for pid in $senders; do wait "$pid" || fail "a sender exited non-zero"; done
"$BIN/rudp-sender" -a 127.0.0.1 -p "$RP" <"$WORK/in/one" || fail "sender from stdin"
for dir in plain sack; do
    n=$(ls "$WORK/$dir" | wc -l)
    [ "$n" -eq 4 ] || [ "$dir" = sack -a "$n" -eq 3 ] || fail "$dir: $n files: $(ls "$WORK/$dir")"
    for f in empty one big; do
        found=""
        for out in "$WORK/$dir"/*; do
            if cmp -s "$out" "$WORK/in/$f"; then found=$out; fi
        done
        [ -n "$found" ] || fail "$dir: no output equals $f"
    done
done
if "$BIN/rudp-sender" -a 127.0.0.1 -p "$(port 6)" -g 1 -f "$WORK/in/one" 2>"$WORK/giveup.err"; then
    fail "sender exited 0 with no receiver"
fi
grep -q "giving up" "$WORK/giveup.err" || fail "give-up message: $(cat "$WORK/giveup.err")"
echo "e2e: rudp ok"
