#!/bin/bash
# How the README's sender comparison was measured: run from the repository top
# after building the reference tools:
#   go build -o /tmp/luabench/netsim ./conformance/cmd/netsim
#   go build -o /tmp/luabench/rudp ./reference/cmd/rudp
# loss-10, 1 MiB, reference receiver, netsim seeds; reference sender vs lua sender, interleaved.
B=/tmp/luabench
head -c 1048576 /dev/urandom > $B/in.bin
for seed in 1 2 3 4 5; do
  for who in ref lua; do
    rm -rf $B/out; mkdir -p $B/out
    rp=$((31000 + seed * 10)); lp=$((rp + 1))
    $B/rudp receive -p $rp -o $B/out 2>/dev/null & R=$!
    $B/netsim -listen 127.0.0.1:$lp -upstream 127.0.0.1:$rp -scenario loss-10 -seed $seed 2>/dev/null & N=$!
    sleep 0.5
    if [ $who = ref ]; then cmd="/b/rudp send -a 127.0.0.1 -p $lp -f /in.bin"; else cmd="lua5.4 /app/bin/rudp-sender -a 127.0.0.1 -p $lp -f /in.bin"; fi
    # Both senders in the same kind of container, timed inside it.
    ms=$(docker run --rm --network host -v /work/main/clients/lua:/app:ro -v $B:/b:ro -v $B/in.bin:/in.bin:ro interop/base-lua:latest \
      sh -c 's=$(date +%s%N); '"$cmd"' 2>/dev/null; rc=$?; e=$(date +%s%N); echo $(( (e - s) / 1000000 )) $rc')
    rc=${ms#* }; ms=${ms% *}
    cmp -s $B/in.bin $B/out/* && same=same || same=DIFFERENT
    echo "seed $seed $who ${ms} ms exit $rc $same"
    kill $N $R; wait $N $R 2>/dev/null
  done
done
