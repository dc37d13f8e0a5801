package interop.rudp

import java.io.{FileOutputStream, IOException}
import java.net.{DatagramPacket, DatagramSocket, InetSocketAddress, SocketTimeoutException}
import java.nio.file.{Files, Path, Paths, StandardCopyOption}

import scala.annotation.tailrec
import scala.collection.mutable
import scala.concurrent.duration._

/**
 * The receiver's logic, without the socket: [[handle]] takes one datagram from a source
 * address at a time `now` (nanoseconds) and returns the ack to send back, if any. The clock is
 * passed in, so the tests drive it through spec/vectors/receiver.json with a fake one.
 *
 * Each transfer writes `<ip>.<port>.partial` in `dir`, renamed to `<ip>.<port>` once `end` has
 * been written in order.
 */
final class Receiver(dir: Path, idleTimeout: Long, sack: Boolean = false, debug: Boolean = false) {
  import Receiver._

  /** One sender's transfer, keyed by its ip:port (RUDP-10). */
  private final class Transfer(val start: Segment, name: String) {
    val partial: Path = dir.resolve(name + ".partial")
    val complete: Path = dir.resolve(name)
    /** Unbuffered: the .partial file always holds everything delivered. None once complete. */
    var out: Option[FileOutputStream] = Some(new FileOutputStream(partial.toFile))
    var next: Long = start.seqno // the lowest seqno not yet delivered, as acked
    /** Out-of-order packets inside the window, by seqno (RUDP-12). */
    val held = mutable.Map.empty[Long, Segment]
    var lastHeard = 0L

    def isComplete: Boolean = out.isEmpty

    /** A start with the same seqno and data as ours is a retransmission of it (RUDP-18). */
    def isSameStart(s: Segment): Boolean = s.seqno == start.seqno && java.util.Arrays.equals(s.data, start.data)

    /** The ack for the current state (RUDP-13); in SACK mode with the held seqnos (RUDP-31). */
    def ack: Ack = Ack(next, if (sack) Some(held.keys.toList.sorted(Rudp.unsigned)) else None)

    def close(): Unit = out.foreach(_.close())
  }

  private val transfers = mutable.Map.empty[InetSocketAddress, Transfer]

  /** Handles one datagram; returns the ack to send to `from`, or None. */
  def handle(from: InetSocketAddress, datagram: Array[Byte], length: Int, now: Long): Option[Array[Byte]] = {
    expire(now) // first, so that no packet reaches an overdue transfer (RUDP-15)
    Rudp.parse(datagram, length) match {
      case Left(invalid) => // dropped silently, never acked (RUDP-8)
        log(s"drop datagram from ${show(from)}: ${invalid.kind}: ${invalid.reason}")
        None
      case Right(_: Ack) => // a receiver takes no acks (RUDP-6)
        log(s"drop ack from ${show(from)}")
        None
      case Right(segment: Segment) =>
        try onSegment(from, segment, now).map(t => Rudp.encode(t.ack))
        catch {
          case e: IOException =>
            Console.err.println(s"rudp receiver: ${show(from)}: cannot write output, transfer dropped: $e")
            transfers.remove(from).foreach(_.close())
            None
        }
    }
  }

  /** The transfer the segment belongs to, after it was processed; None to drop it unacked. */
  private def onSegment(from: InetSocketAddress, segment: Segment, now: Long): Option[Transfer] = {
    val existing = transfers.get(from)
    val transfer = segment.kind match {
      // A start with a new seqno or new data begins a new transfer, replacing this address's
      // old one, complete or not (RUDP-11, RUDP-18).
      case Kind.Start if !existing.exists(_.isSameStart(segment)) =>
        if (existing.isEmpty && transfers.size >= MaxTransfers) {
          log(s"drop start from ${show(from)}: already $MaxTransfers transfers")
          None
        } else {
          existing.foreach(_.close()) // abandoned: the new transfer truncates the .partial
          val t = new Transfer(segment, fileName(from))
          transfers(from) = t
          log(s"${show(from)}: new transfer from seqno ${Rudp.show(segment.seqno)}")
          Some(t)
        }
      case _ => existing // data and end need a transfer (RUDP-11)
    }
    if (transfer.isEmpty) log(s"drop ${segment.kind.name} ${Rudp.show(segment.seqno)} from ${show(from)}: no transfer")
    transfer.foreach { t =>
      t.lastHeard = now // any valid packet counts as activity, duplicates too (RUDP-15)
      if (!t.isComplete) accept(t, segment) // after completion only acks (RUDP-17)
    }
    transfer
  }

  /** Writes the segment if it is next, holds it if it is inside the window (RUDP-12, RUDP-14). */
  private def accept(t: Transfer, s: Segment): Unit = {
    val ahead = s.seqno - t.next // the unsigned distance, when s.seqno >= t.next
    if (s.seqno == -1L) // 2^64-1 can never be delivered: the ack after it would not fit (RUDP-3)
      log("drop seqno 2^64-1")
    else if (ahead == 0) {
      write(t, s)
      deliverHeld(t)
    } else if (Rudp.unsigned.gt(s.seqno, t.next) && ahead > 0 && ahead < Rudp.Window) {
      if (!t.held.contains(s.seqno)) t.held(s.seqno) = s // at most once per seqno
    } else
      log(s"drop ${s.kind.name} ${Rudp.show(s.seqno)}: outside the window from ${Rudp.show(t.next)}")
  }

  @tailrec private def deliverHeld(t: Transfer): Unit =
    if (!t.isComplete) t.held.remove(t.next) match {
      case Some(s) => write(t, s); deliverHeld(t)
      case None    =>
    }

  /** Writes the next segment; after `end` the file is closed and renamed BEFORE the ack (RUDP-14). */
  private def write(t: Transfer, s: Segment): Unit = {
    t.out.foreach(_.write(s.data))
    t.next += 1
    if (s.kind == Kind.End) {
      t.close()
      t.out = None
      t.held.clear()
      Files.move(t.partial, t.complete, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE)
      log(s"complete: ${t.complete}")
    }
  }

  /** Forgets transfers idle for the timeout; an unfinished one keeps its .partial (RUDP-15). */
  def expire(now: Long): Unit =
    for ((from, t) <- transfers.toList if now - t.lastHeard >= idleTimeout) {
      transfers.remove(from)
      if (!t.isComplete) {
        t.close()
        Console.err.println(s"rudp receiver: ${show(from)}: idle, transfer dropped, left ${t.partial}")
      }
    }

  private def log(line: => String): Unit = if (debug) Console.err.println(s"rudp receiver: $line")
}

/**
 * The command: `Receiver [-p PORT] [-t TIMEOUT_SECONDS] [-k] [-d] [-o DIR]` (RUDP-61). Writes
 * into the working directory unless `-o` says otherwise, and runs until it is stopped.
 */
object Receiver {
  val DefaultPort = 33122
  /** Open transfers at most, so that a flood of starts cannot exhaust file descriptors. */
  val MaxTransfers = 256

  /**
   * `<ip>.<port>` like the course receiver, e.g. `172.18.0.3.40000`: built only from the source
   * address, never from packet content, so nothing on the wire can name a file (RUDP-16). The
   * `:` of IPv6 addresses and anything else unusual becomes `_`.
   */
  def fileName(from: InetSocketAddress): String =
    s"${from.getAddress.getHostAddress}.${from.getPort}".replaceAll("[^A-Za-z0-9.-]", "_")

  private def show(from: InetSocketAddress) = s"${from.getAddress.getHostAddress}:${from.getPort}"

  final case class Options(port: Int = DefaultPort, timeoutSeconds: Double = 10, sack: Boolean = false,
                           debug: Boolean = false, dir: Path = Paths.get(""))

  @tailrec def parseArgs(args: List[String], options: Options = Options()): Options = args match {
    case Nil                     => options
    case "-p" :: port :: rest    => parseArgs(rest, options.copy(port = port.toInt))
    case "-t" :: seconds :: rest => parseArgs(rest, options.copy(timeoutSeconds = seconds.toDouble))
    case "-o" :: dir :: rest     => parseArgs(rest, options.copy(dir = Paths.get(dir)))
    case "-k" :: rest            => parseArgs(rest, options.copy(sack = true))
    case "-d" :: rest            => parseArgs(rest, options.copy(debug = true))
    case other :: _              => throw new IllegalArgumentException(s"unexpected argument '$other'")
  }

  def main(args: Array[String]): Unit = {
    val options = try parseArgs(args.toList) catch {
      case e: IllegalArgumentException =>
        Console.err.println(s"usage: Receiver [-p PORT] [-t TIMEOUT_SECONDS] [-k] [-d] [-o DIR]: ${e.getMessage}")
        sys.exit(2)
    }
    val receiver = new Receiver(options.dir, (options.timeoutSeconds * 1e9).toLong, options.sack, options.debug)
    // Stopped by SIGTERM or SIGINT, a receiver exits 0 (RUDP-61) rather than the JVM's 143.
    // Nothing needs saving: every packet is in its file as soon as it is delivered.
    sys.addShutdownHook(Runtime.getRuntime.halt(0))
    try serve(new DatagramSocket(options.port), receiver) // all addresses (RUDP-61)
    catch {
      case e: IOException =>
        Console.err.println(s"rudp receiver: $e")
        Runtime.getRuntime.halt(1) // not sys.exit: the shutdown hook would make it 0
    }
  }

  /** Receives and answers datagrams forever. */
  def serve(socket: DatagramSocket, receiver: Receiver): Unit = {
    val buffer = new Array[Byte](65536) // any datagram fits, so an oversized one is seen (RUDP-2)
    socket.setSoTimeout(200.millis.toMillis.toInt) // wake up now and then to drop idle transfers
    while (true) {
      val datagram = new DatagramPacket(buffer, buffer.length)
      try {
        socket.receive(datagram)
        val from = datagram.getSocketAddress.asInstanceOf[InetSocketAddress]
        for (ack <- receiver.handle(from, buffer, datagram.getLength, System.nanoTime)) {
          try socket.send(new DatagramPacket(ack, ack.length, from))
          catch { case e: IOException => Console.err.println(s"rudp receiver: send: $e") } // like a lost ack
        }
      } catch {
        case _: SocketTimeoutException => receiver.expire(System.nanoTime)
      }
    }
  }
}
