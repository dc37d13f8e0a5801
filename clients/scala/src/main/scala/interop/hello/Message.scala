package interop.hello

import java.io.{ByteArrayOutputStream, FileDescriptor, FileOutputStream, PrintStream}
import java.net.{Socket, SocketException, SocketTimeoutException}
import java.nio.charset.StandardCharsets.UTF_8

import scala.annotation.tailrec
import scala.concurrent.duration._

/** What the Hello client and server share (spec/hello.md). */
object Message {
  /** The language, as interop.json spells it (HELLO-3, MANIFEST-3). */
  val Language = "Scala"
  /** The peer may pause this long after its last byte before its message counts as ended. */
  val IdleGap: FiniteDuration = 1.second
  /** Longer messages are cut here: nobody's language is 64 KiB long (HELLO-1). */
  val MaxLength: Int = 64 * 1024

  /**
   * Standard output in UTF-8, flushed at every println. The JVM would otherwise encode with the
   * locale, which in a bare container is ASCII and turns "Hello in C♯" into "C?".
   */
  val stdout = new PrintStream(new FileOutputStream(FileDescriptor.out), true, UTF_8.name)

  /** What a sender sends: the text and exactly one newline, nothing else (HELLO-1). */
  def line(text: String): Array[Byte] = (text + "\n").getBytes(UTF_8)

  /**
   * Reads one message as a conforming receiver does (HELLO-2): up to the first `\n`, or until
   * the peer closes (also by a reset, once bytes have arrived), or until it has sent something
   * and then paused for the idle gap. Never does one read count as the whole message.
   *
   * Returns the message without its `\n`, or None when the peer closed before sending
   * anything. Throws SocketTimeoutException when nothing arrived within `timeout`.
   */
  def read(socket: Socket, timeout: FiniteDuration): Option[String] = {
    val in = socket.getInputStream
    val message = new ByteArrayOutputStream
    val chunk = new Array[Byte](4096)
    val deadline = System.nanoTime + timeout.toNanos

    /** Reads on; returns whether any byte arrived. */
    @tailrec def loop(received: Boolean): Boolean = {
      val left = (deadline - System.nanoTime).nanos
      if (message.size >= MaxLength) received
      else if (left <= Duration.Zero) {
        if (received) received else throw new SocketTimeoutException(s"no message within $timeout")
      } else {
        // Before the first byte, wait for the whole timeout; afterwards only for the gap.
        socket.setSoTimeout(math.max(1L, (if (received) left min IdleGap else left).toMillis).toInt)
        val n =
          try in.read(chunk, 0, math.min(chunk.length, MaxLength - message.size))
          catch {
            case _: SocketTimeoutException if received => -1 // the idle gap: the message is complete
            case _: SocketException if received => -1 // a reset: what came before it is intact
          }
        if (n < 0) received // EOF: the peer half-closed or closed
        else {
          val newline = chunk.indexOf('\n'.toByte)
          if (newline >= 0 && newline < n) {
            message.write(chunk, 0, newline)
            true
          } else {
            message.write(chunk, 0, n)
            loop(received = true)
          }
        }
      }
    }

    if (loop(received = false)) Some(new String(message.toByteArray, UTF_8)) else None
  }

  /**
   * The text of a message without whitespace, `\r` and NUL bytes around it, which receivers
   * ignore (HELLO-15). C programs that send their whole buffer pad the message with NULs.
   */
  def text(raw: String): String = raw.dropWhile(isBlank).reverse.dropWhile(isBlank).reverse

  /** The words of a message, split at runs of whitespace and NUL bytes (HELLO-15, HELLO-20). */
  def words(raw: String): List[String] = raw.split("[\\s\\x00\\p{Z}]+").toList.filter(_.nonEmpty)

  private def isBlank(c: Char) = c == 0 || Character.isWhitespace(c) || Character.isSpaceChar(c)
}
