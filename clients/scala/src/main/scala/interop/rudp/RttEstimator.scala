package interop.rudp

import scala.concurrent.duration._

/**
 * The retransmission timeout (RTO) from measured round-trip times, as RFC 6298 says (RUDP-41),
 * with the limits spec/rudp.md recommends. Times are nanoseconds (`System.nanoTime`).
 *
 * The sender applies Karn's rule: it feeds only samples of packets sent exactly once, because
 * an ack for a retransmitted packet cannot say which copy it answers. It also decides when to
 * back off (only while the path is silent, see [[Sender]]).
 */
final class RttEstimator {
  import RttEstimator._

  private var smoothed: Option[Long] = None
  private var rttvar = 0L
  private var current = Initial

  /** The current timeout. */
  def rto: Long = current

  /** The smoothed round-trip time, None before the first sample. */
  def srtt: Option[Long] = smoothed

  /** RFC 6298 (2.2) for the first sample, (2.3) after it. */
  def sample(rtt: Long): Unit = {
    smoothed match {
      case None =>
        smoothed = Some(rtt)
        rttvar = rtt / 2
      case Some(s) =>
        rttvar = (3 * rttvar + math.abs(s - rtt)) / 4
        smoothed = Some((7 * s + rtt) / 8)
    }
    reset()
  }

  /**
   * The timeout without backoff, SRTT + 4 RTTVAR within [Min, Max]. Also called on ack
   * progress: a path that delivers again ends any backoff, also when Karn's rule gave no
   * sample (as the reference and Linux do).
   */
  def reset(): Unit =
    current = smoothed.fold(Initial)(s => clamp(s + math.max(Granularity, 4 * rttvar)))

  /** RFC 6298 (5.5): double the timeout after an expiry, up to Max. */
  def backOff(): Unit = current = clamp(2 * current)
}

object RttEstimator {
  /** The course's 500 ms, until the first sample (RUDP-41). */
  val Initial: Long = 500.millis.toNanos
  /** Linux's floor: below it, a loaded machine's scheduling hiccups look like loss. */
  val Min: Long = 200.millis.toNanos
  /**
   * The backoff ceiling, far below the receiver's 10 s idle timeout (RUDP-41, RUDP-44): while
   * the network is dead the sender still probes every second, and notices at once when it
   * comes back.
   */
  val Max: Long = 1.second.toNanos
  /** The clock granularity G of RFC 6298. */
  val Granularity: Long = 1.milli.toNanos

  private def clamp(rto: Long) = math.max(Min, math.min(Max, rto))
}
