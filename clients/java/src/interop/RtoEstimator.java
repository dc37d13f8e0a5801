package interop;

/**
 * Retransmission timeout in the style of RFC 6298 (RUDP-41): it starts at 500 ms, follows the
 * smoothed round-trip time plus four times its variation once samples arrive, doubles on every
 * timeout, and stays between a floor and a ceiling. All times are in nanoseconds.
 *
 * <p>The caller applies Karn's rule: it only feeds samples from packets sent exactly once,
 * because an ack for a retransmitted packet cannot say which copy it answers.
 */
final class RtoEstimator {
    static final long INITIAL = 500_000_000L;
    /** Loopback RTTs are microseconds; a floor keeps delayed acks from looking like loss. */
    static final long MIN = 200_000_000L;
    /**
     * Backoff ceiling. During a blackout the sender still probes this often, so when the
     * network comes back the receiver hears from it before its 10 s idle timeout (RUDP-15)
     * for blackouts of up to about 8 s.
     */
    static final long MAX = 2_000_000_000L;
    /** Clock granularity G of RFC 6298. */
    private static final long GRANULARITY = 1_000_000L;

    private long srtt;
    private long rttvar;
    private long rto = INITIAL;
    private boolean measured;

    /** Current timeout. */
    long rto() {
        return rto;
    }

    /** Smoothed RTT, or 0 before the first sample. */
    long srtt() {
        return srtt;
    }

    /** Feeds one round-trip measurement (RFC 6298 section 2.2 and 2.3). */
    void sample(long rtt) {
        if (!measured) {
            srtt = rtt;
            rttvar = rtt / 2;
            measured = true;
        } else {
            rttvar = (3 * rttvar + Math.abs(srtt - rtt)) / 4;
            srtt = (7 * srtt + rtt) / 8;
        }
        rto = clamp(srtt + Math.max(GRANULARITY, 4 * rttvar));
    }

    /** Exponential backoff after a timeout (RFC 6298 section 5.5). */
    void backoff() {
        rto = clamp(2 * rto);
    }

    private static long clamp(long value) {
        return Math.max(MIN, Math.min(MAX, value));
    }
}
