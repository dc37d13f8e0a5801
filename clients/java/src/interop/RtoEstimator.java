package interop;

/**
 * Retransmission timeout in the style of RFC 6298 (RUDP-41): it starts at 500 ms, follows the
 * smoothed round-trip time plus four times its variation once samples arrive, doubles when the
 * sender backs off, and stays between a floor and a ceiling. All times are in nanoseconds.
 *
 * <p>The caller applies Karn's rule: it only feeds samples from packets sent exactly once,
 * because an ack for a retransmitted packet cannot say which copy it answers. It also decides
 * when to back off: only when the path is silent (see RudpSender.onTimeout).
 */
final class RtoEstimator {
    static final long INITIAL = 500_000_000L;
    /**
     * Loopback RTTs are microseconds; the floor (Linux's) keeps a busy machine's scheduling
     * delays from looking like loss.
     */
    static final long MIN = 200_000_000L;
    /**
     * Backoff ceiling. While the network is dead the sender still probes every second, so it
     * notices at once when the network comes back. A receiver drops a transfer after 10 s
     * without a packet (RUDP-15): at 50 % loss, ten probes in a row must be lost for that,
     * rather than five with a 2 s ceiling.
     */
    static final long MAX = 1_000_000_000L;
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

    /** Cumulative progress: the path works, so a backoff ends (the reference does the same). */
    void resetBackoff() {
        rto = clamp(measured ? srtt + Math.max(GRANULARITY, 4 * rttvar) : INITIAL);
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

    /** Exponential backoff after a timeout on a silent path (RFC 6298 section 5.5). */
    void backoff() {
        rto = clamp(2 * rto);
    }

    private static long clamp(long value) {
        return Math.max(MIN, Math.min(MAX, value));
    }
}
