package interop.rudp

import java.io.{FileInputStream, IOException, InputStream}
import java.net.{DatagramPacket, DatagramSocket, InetSocketAddress, PortUnreachableException, SocketTimeoutException}
import java.security.SecureRandom

import scala.annotation.tailrec
import scala.collection.mutable
import scala.concurrent.duration._

/**
 * Cuts the input into the packets of one transfer (RUDP-7): `start` first with the first
 * payload, `data` after it, `end` last with the last payload, or empty when the input ends
 * inside `start` (an empty or one-packet file). Every payload but the last is as large as a
 * datagram allows (RUDP-46).
 *
 * It reads one payload ahead, because `end` must carry the last payload: a packet's kind is
 * known only once we know whether more input follows. Only that payload is kept, so any input
 * size works, from a file or from stdin.
 */
final class Packetizer(input: InputStream, first: Long) {
  private var seqno = first
  /** The next packet's payload; None after end. */
  private var pending: Option[Array[Byte]] = Some(input.readNBytes(Rudp.maxPayload(Kind.Start, first)))

  /** The next packet (seqno, kind, datagram), or None after end. */
  def next(): Option[(Long, Kind, Array[Byte])] = pending.map { data =>
    val current = seqno
    seqno += 1
    val following = input.readNBytes(Rudp.maxPayload(Kind.Data, seqno)) // short only at EOF
    val kind =
      if (current == first) Kind.Start
      else if (following.isEmpty) Kind.End
      else Kind.Data
    pending = if (kind == Kind.End) None else Some(following)
    (current, kind, Rudp.encode(kind, current, data))
  }
}

/**
 * Sends one input reliably over a UDP socket connected to the receiver.
 *
 * One thread and one loop: send what the window allows, wait for an ack or a timer, react.
 * The design follows the reference sender ("How the reference sender works" in spec/rudp.md):
 * start alone first, a window of 5, an adaptive timer, fast retransmit, SACK, a tail loss
 * probe. [[run]] returns once `end` is acked and throws [[Sender.GiveUp]] after `giveUpAfter`
 * nanoseconds without progress of the cumulative ack.
 */
final class Sender(socket: DatagramSocket, input: InputStream, first: Long, sack: Boolean = false,
                   giveUpAfter: Long = Sender.DefaultGiveUp, debug: Boolean = false) {
  import Sender._

  /** A packet sent and not yet cumulatively acked. */
  private final class Slot(val seqno: Long, val datagram: Array[Byte]) {
    var sentAt = 0L
    var sends = 0
    var sacked = false // held by the receiver out of order (RUDP-32)
  }

  private val packets = new Packetizer(input, first)
  private val rtt = new RttEstimator
  private val window = mutable.ArrayBuffer.empty[Slot] // seqnos cum until nextSeqno (RUDP-40)
  private val buffer = new Array[Byte](2048) // longer than any valid datagram, so those are seen

  private var cum = first // the highest cumulative ack (RUDP-13)
  private var nextSeqno = first
  private var endSent = false
  private var done = false // end is acked (RUDP-45)
  private var dupAcks = 0
  private var sackEvidence = false // the last ack was a sack (a plain-ack receiver sends none)
  private var heard = false // an ack arrived since the last timeout
  private var timer: Option[Long] = None // the retransmission timer (RFC 6298)
  private var checkAt: Option[Long] = None // when a suspected loss becomes overdue
  private var probed = false // a tail loss probe went out since the last progress
  private var lastAckAt = 0L
  private var lastProgress = System.nanoTime
  private var lastError: Option[String] = None
  private var transmissions = 0

  /** Sends everything; returns once `end` is acked (RUDP-45). */
  def run(): Unit = {
    while (!done) {
      while (maySend) sendNew()
      val now = System.nanoTime
      val wake = (timer ++ checkAt ++ probeAt).reduceOption(_ min _).getOrElse(now + RttEstimator.Max)
      receive(wake - now)
      val later = System.nanoTime
      if (!done && timer.exists(later >= _)) onTimeout(later)
      if (!done && checkAt.exists(later >= _)) detectLosses(later)
      if (!done && probeAt.exists(later >= _)) {
        probed = true
        retransmit(window.head, "tail loss probe")
      }
    }
    log(s"done: ${Rudp.show(nextSeqno - first)} packets, $transmissions transmissions")
  }

  /**
   * RUDP-40: a new packet only while fewer than 5 are in flight, so every seqno sent is below
   * cum + 5. And nothing after start until start is acked: a receiver drops whatever arrives
   * before start (RUDP-11), so a lost start would take the rest of the window with it.
   */
  private def maySend = !endSent && window.size < Rudp.Window && (nextSeqno == first || cum > first)

  private def sendNew(): Unit = packets.next().foreach { case (seqno, kind, datagram) =>
    val slot = new Slot(seqno, datagram)
    endSent = kind == Kind.End
    nextSeqno = seqno + 1
    window += slot
    transmit(slot, "new")
  }

  private def transmit(slot: Slot, why: String): Unit = {
    log(s"send ${Rudp.show(slot.seqno)} ($why, ${slot.datagram.length} bytes, rto ${rtt.rto / 1000000} ms)")
    try socket.send(new DatagramPacket(slot.datagram, slot.datagram.length))
    catch { case e: IOException => failed("send", e) } // like a lost datagram: the timer retries
    slot.sends += 1
    slot.sentAt = System.nanoTime
    transmissions += 1
    if (timer.isEmpty) timer = Some(slot.sentAt + rtt.rto) // RFC 6298 (5.1): start it if off
  }

  private def retransmit(slot: Slot, why: String): Unit = {
    transmit(slot, why)
    // The repaired head gets a full timeout of its own.
    if (window.headOption.exists(_ eq slot)) timer = Some(slot.sentAt + rtt.rto)
  }

  /** Waits at most `nanos` for one datagram and handles it. */
  private def receive(nanos: Long): Unit = {
    val packet = new DatagramPacket(buffer, buffer.length)
    try {
      socket.setSoTimeout(math.max(1L, (nanos + 999999) / 1000000).toInt)
      socket.receive(packet)
      Rudp.parse(buffer, packet.getLength) match {
        case Right(ack: Ack) => onAck(ack)
        case Right(other)    => log(s"dropped a packet that is no ack: $other")
        case Left(invalid)   => log(s"dropped ack: ${invalid.reason}") // RUDP-6: never acted on
      }
    } catch {
      case _: SocketTimeoutException =>
      case e: PortUnreachableException => failed("receive", e) // no receiver (yet)
    }
  }

  private def failed(what: String, e: IOException): Unit = {
    lastError = Some(s"$what: ${Option(e.getMessage).getOrElse(e.toString)}")
    log(lastError.get)
  }

  /**
   * An ack carries the next seqno the receiver expects (RUDP-13). Below cum it is stale
   * (reordered), beyond what was sent it is bogus. (Seqnos here start below 2^30, so signed
   * comparison is right; a bogus seqno of 2^63 or more reads as negative and is ignored.)
   */
  private def onAck(ack: Ack): Unit = {
    heard = true
    lastAckAt = System.nanoTime
    if (ack.next < cum || ack.next > nextSeqno)
      log(s"ignored ack ${Rudp.show(ack.next)} (window ${Rudp.show(cum)} until ${Rudp.show(nextSeqno)})")
    else {
      if (ack.next > cum) advance(ack.next)
      else if (window.nonEmpty) dupAcks += 1
      if (!done) {
        // With -k, sacks show which packets after a hole arrived (RUDP-32). A receiver
        // without SACK answers with plain acks: then judge by those (RUDP-30).
        ack.sacks match {
          case Some(held) if sack =>
            sackEvidence = true
            held.flatMap(slotFor).foreach(_.sacked = true)
          case _ =>
            sackEvidence = false
        }
        detectLosses(lastAckAt)
      }
    }
  }

  /**
   * The cumulative ack moved from cum to `next`: those packets arrived and are forgotten, so
   * they are never sent again (RUDP-43).
   */
  private def advance(next: Long): Unit = {
    val now = System.nanoTime
    val acked = window.take((next - cum).toInt)
    window.remove(0, acked.size)
    cum = next
    done = endSent && cum == nextSeqno // RUDP-45: end is acked
    // Karn's rule (RUDP-41): only packets sent once give an unambiguous RTT. The oldest one
    // newly acked errs on the long side, the safe side for a timeout.
    if (acked.forall(_.sends == 1)) rtt.sample(now - acked.head.sentAt) else rtt.reset()
    log(s"ack ${Rudp.show(cum)}, rto ${rtt.rto / 1000000} ms")
    dupAcks = 0
    probed = false
    lastProgress = now
    timer = if (window.isEmpty) None else Some(now + rtt.rto) // RFC 6298 (5.2, 5.3)
  }

  private def slotFor(seqno: Long): Option[Slot] =
    if (seqno >= cum && seqno < nextSeqno) Some(window((seqno - cum).toInt)) else None

  /**
   * Resends the packets the acks show lost, without waiting for the timer, and sets checkAt
   * for those that will count as lost if no ack comes first. A packet is lost when packets sent
   * after it have arrived (the evidence: duplicate acks, or packets sacked above it), and
   *  - it was sent once and 3 packets sent after it arrived: the 3rd duplicate ack (RUDP-42),
   *    or 3 sacked above it;
   *  - or it has been out for more than a round trip (RACK, RFC 8985, which RUDP-42 allows).
   *    With a window of 5 a lost packet often has fewer than 3 followers, and duplicate acks
   *    get lost too; this repairs it in about one round trip.
   * A repair that goes unanswered is probed once more after 2 SRTT; after that only the timer
   * resends it. Without SACK only the oldest packet can be judged; with SACK every hole.
   */
  private def detectLosses(now: Long): Unit = {
    checkAt = None
    for ((slot, evidence) <- suspects if evidence > 0) {
      val overdue = lostAt(slot).exists(now >= _)
      if ((slot.sends == 1 && evidence >= DupThreshold) || overdue)
        retransmit(slot, if (slot.sends == 1) s"lost, $evidence arrived after it" else "repair probe")
      lostAt(slot).foreach(due => checkAt = Some(checkAt.fold(due)(_ min due)))
    }
  }

  /**
   * When a packet with evidence against it counts as lost: a round trip and a quarter (at
   * least 2 ms, for reordering) after its first send; a repair 2 round trips after it. None
   * before the first RTT sample, and once the repair was probed.
   */
  private def lostAt(slot: Slot): Option[Long] = rtt.srtt.filter(_ => slot.sends <= 2).map { srtt =>
    slot.sentAt + (if (slot.sends == 1) srtt + math.max(srtt / 4, 2.millis.toNanos) else math.max(2 * srtt, 10.millis.toNanos))
  }

  /**
   * (slot, evidence) for each packet that may be lost: with sacks every packet not sacked,
   * with the number sacked above it; else the oldest packet, with the duplicate acks.
   */
  private def suspects: List[(Slot, Int)] =
    if (!sackEvidence) window.headOption.map(_ -> dupAcks).toList
    else window.foldRight((0, List.empty[(Slot, Int)])) { case (slot, (above, list)) =>
      if (slot.sacked) (above + 1, list) else (above, (slot, above) :: list)
    }._2

  /**
   * A tail loss probe (after RFC 8985): when nothing at all has come back for two round trips
   * since the oldest packet was last sent, resend it once rather than wait for the timer,
   * whose 200 ms floor is a hundred round trips on a LAN. With a window of 5, a lost packet at
   * the end of the window, or a lost repair, leaves no later packet to cause the duplicate
   * acks that would reveal it. Not before the first RTT sample, once per progress.
   */
  private def probeAt: Option[Long] =
    if (probed) None
    else for {
      head <- window.headOption
      srtt <- rtt.srtt
    } yield math.max(head.sentAt, lastAckAt) + math.max(2 * srtt, 10.millis.toNanos)

  /**
   * The retransmission timer expired (RUDP-41): the oldest packet has gone unacked for a whole
   * RTO. Back off only while the path is silent: if acks came since the last expiry, the
   * losses are random, and doubling would only stretch every later wait. Then resend every
   * packet not known to be held (RUDP-32), as TCP does after a timeout: nothing is known to
   * have arrived for a whole RTO. A lone packet goes twice: it needs itself and an ack to get
   * through.
   */
  private def onTimeout(now: Long): Unit = {
    if (now - lastProgress >= giveUpAfter) {
      val seconds = giveUpAfter / 1e9
      val detail = lastError.fold("")(e => s" (last error: $e)")
      throw new GiveUp(
        if (cum > first) f"no ack progress for $seconds%.0f s, $cum%d of $nextSeqno%d acked$detail" // RUDP-44
        else f"start was never acknowledged in $seconds%.0f s$detail: is a receiver listening there?")
    }
    if (heard) rtt.reset() else rtt.backOff()
    heard = false
    dupAcks = 0
    val resend = window.filterNot(_.sacked)
    (if (resend.size == 1) resend ++ resend else resend).foreach(transmit(_, "timeout"))
    timer = Some(System.nanoTime + rtt.rto) // RFC 6298 (5.6)
  }

  private def log(line: => String): Unit = if (debug) Console.err.println(s"rudp sender: $line")
}

/**
 * The command: `Sender -a HOST -p PORT [-f FILE] [-k] [-d] [-g GIVE_UP_SECONDS]` (RUDP-60).
 * Exits 0 once `end` is acked, 1 with a message on stderr when it gives up or fails (RUDP-45),
 * 2 for a bad command line.
 */
object Sender {
  /** Fast retransmit on the 3rd duplicate ack, the 4th identical one (RUDP-42). */
  val DupThreshold = 3
  /** Give up after this long without progress of the cumulative ack (RUDP-44). */
  val DefaultGiveUp: Long = 60.seconds.toNanos

  final class GiveUp(message: String) extends Exception(message)

  final case class Options(host: Option[String] = None, port: Option[Int] = None, file: Option[String] = None,
                           sack: Boolean = false, debug: Boolean = false, giveUpSeconds: Double = 60)

  @tailrec def parseArgs(args: List[String], options: Options = Options()): Options = args match {
    case Nil                     => options
    case "-a" :: host :: rest    => parseArgs(rest, options.copy(host = Some(host)))
    case "-p" :: port :: rest    => parseArgs(rest, options.copy(port = Some(port.toInt)))
    case "-f" :: file :: rest    => parseArgs(rest, options.copy(file = Some(file)))
    case "-g" :: seconds :: rest => parseArgs(rest, options.copy(giveUpSeconds = seconds.toDouble))
    case "-k" :: rest            => parseArgs(rest, options.copy(sack = true))
    case "-d" :: rest            => parseArgs(rest, options.copy(debug = true))
    case other :: _              => throw new IllegalArgumentException(s"unexpected argument '$other'")
  }

  def main(args: Array[String]): Unit = {
    val options = try parseArgs(args.toList) catch {
      case e: IllegalArgumentException => usage(e.getMessage) // NumberFormatException too
    }
    val (host, port) = (options.host, options.port) match {
      case (Some(h), Some(p)) if p > 0 && p < 65536 && options.giveUpSeconds > 0 => (h, p)
      case _ => usage("need -a HOST and -p PORT")
    }
    // The file comes from -f, or stdin without it (RUDP-60).
    val input = try options.file.fold(System.in)(new FileInputStream(_)) catch {
      case e: IOException => fail(s"cannot read ${options.file.get}: ${e.getMessage}")
    }
    val peer = new InetSocketAddress(host, port) // resolves a host name
    if (peer.isUnresolved) fail(s"could not resolve host $host")
    // The sender picks the first seqno (RUDP-7); a random one keeps a restarted transfer
    // apart from a stale one, and one below 2^30 never nears 2^64 (RUDP-3).
    val first = new SecureRandom().nextInt(1 << 30).toLong
    val socket = new DatagramSocket() // a new source port for each transfer (RUDP-18)
    try {
      socket.connect(peer) // only the receiver's datagrams come through
      new Sender(socket, input, first, options.sack, (options.giveUpSeconds * 1e9).toLong, options.debug).run()
    } catch {
      case e: GiveUp      => fail(s"giving up: ${e.getMessage}")
      case e: IOException => fail(e.toString)
    } finally socket.close()
    sys.exit(0)
  }

  private def usage(problem: String): Nothing = {
    Console.err.println(s"usage: Sender -a HOST -p PORT [-f FILE] [-k] [-d] [-g GIVE_UP_SECONDS]: $problem")
    sys.exit(2)
  }

  private def fail(message: String): Nothing = {
    Console.err.println(s"rudp sender: $message")
    sys.exit(1)
  }
}
