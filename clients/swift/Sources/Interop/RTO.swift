/// The sender's retransmission timeout (RUDP-41), estimated as RFC 6298 says:
/// a smoothed RTT and its variation from RTT samples, doubled on timeouts.
public struct RTOEstimator: Sendable {
    /// The timeout before the first RTT sample: the course's 500 ms (RUDP-41).
    public static let initial: Duration = .milliseconds(500)
    /// Never retransmit sooner than this (RUDP-41: SHOULD NOT go below 200 ms,
    /// Linux's floor). Containers answer in well under a millisecond, so the
    /// floor is what keeps scheduling hiccups on a busy machine from firing
    /// the timer.
    public static let minimum: Duration = .milliseconds(200)
    /// The backoff stops here, far below the receiver's 10 s idle timeout
    /// (RUDP-15, RUDP-41), so that a sender keeps probing during an outage
    /// and notices within 1 s that it is over (RUDP-44).
    public static let maximum: Duration = .seconds(1)

    /// Smoothed RTT; nil until the first sample.
    public private(set) var srtt: Duration?
    private var rttvar: Duration = .zero
    /// Timeouts in a row on a silent path.
    private var backoff = 0

    public init() {}

    /// The current timeout: SRTT + 4·RTTVAR, at least `minimum`, times
    /// 2^backoff, at most `maximum`.
    public var rto: Duration {
        let base = srtt.map { max($0 + rttvar * 4, Self.minimum) } ?? Self.initial
        return min(base * (1 << min(backoff, 8)), Self.maximum)
    }

    /// Feeds one RTT measurement. Karn's rule is the caller's job: never
    /// measure a retransmitted packet, as the ack may be for either copy.
    public mutating func sample(_ rtt: Duration) {
        guard let srtt else {
            srtt = rtt
            rttvar = rtt / 2
            return
        }
        let error = srtt > rtt ? srtt - rtt : rtt - srtt
        rttvar = (rttvar * 3 + error) / 4 // beta = 1/4
        self.srtt = (srtt * 7 + rtt) / 8 // alpha = 1/8
    }

    /// A timer expired on a silent path: double the timeout (RFC 6298, 5.5).
    public mutating func backOff() { backoff += 1 }

    /// Acks arrive again: forget the backoff.
    public mutating func resetBackoff() { backoff = 0 }
}
