// Retransmission timeout estimator in the style of RFC 6298 (RUDP-41).
//
// The course sender uses a fixed 500 ms. We start there, then follow the
// measured round-trip time: SRTT is a smoothed average, RTTVAR a smoothed
// mean deviation, and RTO = SRTT + 4 * RTTVAR. A timeout doubles the RTO
// (exponential backoff); progress (a new cumulative ack) ends the backoff,
// since the path works again. The bounds differ from RFC 6298's (1 s ..
// 60 s), which are meant for the Internet: a floor of 200 ms (Linux's)
// suits a LAN and keeps scheduling hiccups on a loaded machine from firing
// the timer, and a ceiling of 2 s keeps probing often during a blackout,
// well inside the receiver's 10 s idle timeout (RUDP-15).
export const INITIAL_RTO_MS = 500;
export const MIN_RTO_MS = 200;
export const MAX_RTO_MS = 2000;
const CLOCK_GRANULARITY_MS = 1;

export class RtoEstimator {
  constructor() {
    this.srtt = undefined; // ms; undefined until the first sample
    this.rttvar = undefined;
    this.rto = INITIAL_RTO_MS;
  }

  // sample feeds one measured round-trip time. By Karn's rule the caller
  // only measures packets that were sent once: the ack of a retransmitted
  // packet could belong to either copy.
  sample(rttMs) {
    if (this.srtt === undefined) {
      this.srtt = rttMs;
      this.rttvar = rttMs / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - rttMs);
      this.srtt = 0.875 * this.srtt + 0.125 * rttMs;
    }
    this.endBackOff();
  }

  // backOff doubles the timeout after it expired.
  backOff() {
    this.rto = clamp(this.rto * 2);
  }

  // endBackOff returns to the timeout computed from the samples (or the
  // initial one before any sample). Without it a lossy path, where most
  // acks cover a retransmitted packet and so give no sample (Karn), would
  // keep the timeout doubled for long stretches.
  endBackOff() {
    this.rto = this.srtt === undefined ? INITIAL_RTO_MS : clamp(this.srtt + Math.max(CLOCK_GRANULARITY_MS, 4 * this.rttvar));
  }
}

const clamp = (ms) => Math.min(MAX_RTO_MS, Math.max(MIN_RTO_MS, ms));
