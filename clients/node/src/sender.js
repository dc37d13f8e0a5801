// The RUDP sender's logic (spec/rudp.md), without any I/O or clock, like
// receiver.js: the caller passes each ack and the time, and sends the
// packets each call returns. Keeping the state machine pure makes it easy to
// test with a fake clock and to read.
//
// Packets are numbered by index 0..count-1 here; the seqno on the wire is
// first + index, which the caller (rudp-sender.js) converts. Times are in
// milliseconds on any monotonic clock (the caller uses performance.now()).
//
// It follows the reference sender's design ("How the reference sender
// works" in spec/rudp.md): most losses are repaired from the acks, long
// before the retransmission timer, whose 200 ms floor is a hundred round
// trips on a LAN, would fire.
import { RtoEstimator } from './rto.js';

export const WINDOW = 5; // RUDP-40: only indexes < cumulative ack + 5 may be in flight
export const DUP_ACKS = 3; // RUDP-42: the 3rd duplicate ack triggers a fast retransmit
export const MIN_PROBE_MS = 10; // tail loss probe: at least 10 ms, for busy machines (RFC 8985 7.2)

export class Sender {
  // count: the number of packets (start .. end); sack: -k (RUDP-30).
  constructor(count, { sack = false } = {}) {
    this.count = count;
    this.sack = sack;
    this.rto = new RtoEstimator();
    this.acked = 0; // packets [0, acked) are cumulatively acknowledged
    this.next = 0; // packets [acked, next) are in flight
    this.sentAt = []; // index -> time of its last transmission
    this.transmissions = []; // index -> how often it was sent (Karn's rule)
    this.sacked = new Set(); // indexes the receiver holds out of order (RUDP-32)
    this.sackAcks = false; // the last ack was a sack: judge holes by the sack lists
    this.dupAcks = 0; // duplicates of the current cumulative ack (RUDP-42)
    this.heard = false; // any valid ack since the last timeout
    this.inRecovery = false; // between a loss repair and the ack covering `recover`
    this.recover = 0; // `next` when the recovery began
    this.repaired = new Set(); // indexes resent for loss in the current recovery
    this.probed = false; // the current probe was sent
    this.probeIndex = -1; // the head the probe timer was armed for
    // Three timers, each a time or undefined when off:
    this.rtoAt = undefined; // the retransmission timer (RUDP-41, RFC 6298)
    this.lossCheckAt = undefined; // when a suspected loss becomes overdue (RACK)
    this.probeAt = undefined; // when to probe a repaired head that got no ack (TLP)
    this.lastProgress = 0; // when the cumulative ack last moved (RUDP-44)
  }

  // done: end is acknowledged (RUDP-45).
  get done() {
    return this.acked === this.count;
  }

  // nextTimer is when onTimers should be called next, or undefined.
  nextTimer() {
    const times = [this.rtoAt, this.lossCheckAt, this.probeAt].filter((t) => t !== undefined);
    return times.length ? Math.min(...times) : undefined;
  }

  // start sends the first packet; returns the indexes to send.
  start(now) {
    this.lastProgress = now;
    const out = [];
    this.fill(now, out);
    return out;
  }

  // onAck takes a valid ack: n is the index the receiver expects next
  // (RUDP-13), sacks the indexes a sack lists (RUDP-30), isSack whether it
  // was a sack. Returns the indexes to send.
  onAck(now, n, sacks = [], isSack = false) {
    const out = [];
    // One below our cumulative ack is stale (reordered), one beyond what we
    // sent is bogus: ignore both.
    if (n < this.acked || n > this.next) return out;
    this.heard = true;
    if (n > this.acked) this.advance(now, n);
    else if (this.acked < this.next) this.dupAcks++;
    if (this.done) return out;
    // RUDP-30: a receiver without SACK answers with plain acks; then we
    // judge by the duplicate acks, as without -k. A listed packet stays
    // held (RUDP-32: a receiver never discards one), so the set only grows.
    this.sackAcks = this.sack && isSack;
    if (this.sackAcks) for (const i of sacks) if (i > this.acked && i < this.next) this.sacked.add(i);
    this.detectLosses(now, out); // repairs first: the window cannot move past them
    this.fill(now, out);
    return out;
  }

  // onTimers runs the timers that are due at now; returns the indexes to send.
  onTimers(now) {
    const out = [];
    if (this.rtoAt !== undefined && now >= this.rtoAt) this.onTimeout(now, out);
    if (this.lossCheckAt !== undefined && now >= this.lossCheckAt) this.detectLosses(now, out);
    if (this.probeAt !== undefined && now >= this.probeAt) this.onProbe(now, out);
    return out;
  }

  // fill sends new packets while fewer than WINDOW are in flight (RUDP-40).
  // Until start is acked it goes alone: the receiver drops every packet
  // that arrives before start (RUDP-11), so a lost start would take the
  // whole window with it; waiting costs one round trip and gives the first
  // RTT sample.
  fill(now, out) {
    const window = this.acked === 0 ? 1 : WINDOW;
    while (this.next < this.count && this.next < this.acked + window) this.transmit(now, this.next++, out);
  }

  transmit(now, i, out) {
    this.sentAt[i] = now;
    this.transmissions[i] = (this.transmissions[i] ?? 0) + 1;
    out.push(i);
    if (this.rtoAt === undefined) this.rtoAt = now + this.rto.rto; // RFC 6298 (5.1)
  }

  // retransmit resends packet i as a repair; the head gets a full timeout.
  retransmit(now, i, out) {
    this.repaired.add(i);
    this.transmit(now, i, out);
    if (i === this.acked) this.rtoAt = now + this.rto.rto;
  }

  // advance handles a cumulative ack moving from this.acked to n. Packets
  // below n are forgotten, so they are never resent (RUDP-43).
  advance(now, n) {
    // Karn's rule (RUDP-41): measure the round trip only when no newly
    // acked packet was retransmitted. We time the oldest of them, which
    // errs on the long side: the safe side for a timeout. Either way
    // progress ends any backoff.
    let clean = true;
    for (let i = this.acked; i < n; i++) clean &&= this.transmissions[i] === 1;
    if (clean) this.rto.sample(now - this.sentAt[this.acked]);
    else this.rto.endBackOff();
    for (let i = this.acked; i < n; i++) {
      this.sacked.delete(i);
      this.repaired.delete(i);
    }
    this.acked = n;
    this.dupAcks = 0;
    this.lastProgress = now;
    if (this.inRecovery && n >= this.recover) this.inRecovery = false;
    // RFC 6298 (5.2, 5.3): stop the timer when all is acked, else restart it.
    this.rtoAt = this.acked < this.next ? now + this.rto.rto : undefined;
  }

  // overdue is how long after its last transmission a packet counts as
  // lost once a packet sent after it has arrived: one smoothed RTT plus a
  // reordering allowance of a quarter RTT, at least 2 ms (RACK, RFC 8985
  // 6.2). Undefined before the first RTT sample.
  overdue() {
    const srtt = this.rto.srtt;
    return srtt === undefined ? undefined : srtt + Math.max(srtt / 4, 2);
  }

  // A recovery episode lasts until everything sent before it is acked (as
  // in NewReno, RFC 6582). The acks repair each packet at most once per
  // episode; a lost repair is left to the probe and the timer.
  enterRecovery() {
    this.inRecovery = true;
    this.recover = this.next;
    this.repaired.clear();
  }

  // detectLosses resends what the acks show to be lost, and arms the RACK
  // timer for what will be if no ack comes first. The evidence against a
  // packet is the packets sent after it that arrived: the duplicate acks
  // for the oldest unacked one, or with sacks the held packets above each
  // hole (RUDP-32; held packets are never resent).
  detectLosses(now, out) {
    this.lossCheckAt = undefined;
    if (this.sackAcks) {
      for (let i = this.acked; i < this.next; i++) {
        if (this.sacked.has(i)) continue;
        let heldAbove = 0;
        for (const s of this.sacked) if (s > i) heldAbove++;
        this.repairIfLost(now, i, heldAbove, out);
      }
    } else if (this.acked < this.next) {
      this.repairIfLost(now, this.acked, this.dupAcks, out);
    }
  }

  // repairIfLost resends packet i, which has `evidence` packets sent after
  // it known to have arrived, if that shows it is lost:
  //  - 3 of them: the classic fast retransmit on the 3rd duplicate ack
  //    (RUDP-42), or 3 held packets above a hole (RFC 6675);
  //  - 1 or 2, once its last copy has been out for longer than
  //    SRTT + max(SRTT/4, 2 ms) (RACK, RFC 8985, which RUDP-42 allows).
  //    With a window of 5 there are often fewer than 3 duplicates, and
  //    some may be lost too; without this rule such a loss would wait for
  //    the 200 ms-minimum timer. A younger copy may still arrive (the acks
  //    may come from packets sent before it), so it is judged again when
  //    it is old enough (lossCheckAt).
  repairIfLost(now, i, evidence, out) {
    if (evidence === 0 || this.repaired.has(i)) return;
    if (evidence < DUP_ACKS) {
      if (this.rto.srtt === undefined) return; // no RTT yet: wait for more duplicates or the timer
      const due = this.sentAt[i] + this.overdue();
      if (now < due) {
        this.lossCheckAt = Math.min(this.lossCheckAt ?? Infinity, due);
        return;
      }
    }
    if (!this.inRecovery) this.enterRecovery();
    this.retransmit(now, i, out);
    if (i === this.acked && this.rto.srtt !== undefined) {
      // Tail loss probe (RFC 8985 7): the window cannot move until the
      // head is repaired, so if this repair or its ack is lost no other
      // ack will come. Probe after 2 SRTT instead of waiting for the timer.
      this.probeIndex = i;
      this.probed = false;
      this.probeAt = now + Math.max(2 * this.rto.srtt, MIN_PROBE_MS);
    }
  }

  // onProbe sends the repaired head once more if no ack covered it within
  // 2 SRTT. Its ack, or the duplicate ack it causes, restarts the ack clock
  // whether the repair or only its ack was lost.
  onProbe(now, out) {
    this.probeAt = undefined;
    const i = this.acked;
    if (i !== this.probeIndex || i === this.next || !this.repaired.has(i) || this.probed) return; // acked meanwhile
    if (now - this.sentAt[i] < 2 * this.rto.srtt) return; // repaired again since
    this.probed = true;
    this.retransmit(now, i, out);
  }

  // onTimeout handles an expiry of the retransmission timer (RUDP-41).
  onTimeout(now, out) {
    this.rtoAt = undefined;
    if (this.acked === this.next) return; // nothing in flight
    // RFC 6298 (5.5) doubles the timeout, but we do only while the path is
    // silent (a blackout, or no receiver). If acks, even duplicates, came
    // since the last timeout, the losses are random, and doubling would
    // only stretch every later wait (the reference's rule).
    if (this.heard) this.rto.endBackOff();
    else this.rto.backOff();
    this.heard = false;
    this.enterRecovery();
    this.dupAcks = 0;
    // A whole RTO without progress says nothing is known to have arrived:
    // resend every packet in flight the receiver does not hold (RUDP-32),
    // as TCP does after a timeout (RFC 6675 5.1); without -k that is
    // Go-Back-N, at most 5 packets (RUDP-40). A lone packet goes twice: it
    // needs itself and one ack to get through, and under heavy loss a
    // second copy nearly halves the rounds that bring no ack at all.
    const resend = [];
    for (let i = this.acked; i < this.next; i++) if (!this.sacked.has(i)) resend.push(i);
    if (resend.length === 1) resend.push(resend[0]);
    for (const i of resend) this.retransmit(now, i, out);
    this.rtoAt = now + this.rto.rto; // RFC 6298 (5.6)
  }
}
