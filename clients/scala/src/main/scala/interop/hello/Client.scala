package interop.hello

import java.io.IOException
import java.net.{InetSocketAddress, Socket, SocketException, SocketTimeoutException}
import java.util.{Timer, TimerTask}

import scala.concurrent.duration._

/**
 * The Hello client: `Client HOST PORT` (HELLO-30). Connects, sends `Hello in Scala`, prints the
 * server's reply and exits 0; on any failure it says what went wrong on stderr and exits 1
 * (HELLO-8).
 */
object Client {
  /** Connecting plus the whole exchange must fit in this (HELLO-8). */
  val Timeout: FiniteDuration = 10.seconds
  /**
   * When to half-close if no reply has begun: a conforming server answers within its idle gap
   * (at most 2 s, HELLO-2), so this only ever rescues servers that wait for EOF (HELLO-6).
   */
  val HalfCloseDelay: FiniteDuration = 3.seconds

  def main(args: Array[String]): Unit = args match {
    case Array(host, port) =>
      try Message.stdout.println(exchange(host, port.toInt)) // HELLO-7
      catch {
        case e: NumberFormatException => fail(s"bad port $port")
        case e: IllegalArgumentException => fail(s"bad port $port: ${e.getMessage}")
        case Failed(message) => fail(message)
      }
      sys.exit(0)
    case _ =>
      Console.err.println("usage: Client HOST PORT")
      sys.exit(2)
  }

  /** A failure with the message a student can act on (HELLO-8). */
  final case class Failed(message: String) extends Exception(message)

  /** Says hello to host:port; returns the text of the reply. */
  def exchange(host: String, port: Int): String = {
    val where = s"$host:$port"
    val server = new InetSocketAddress(host, port) // resolves a host name (HELLO-5)
    if (server.isUnresolved) throw Failed(s"could not resolve host $host")
    val socket = new Socket
    try {
      try socket.connect(server, Timeout.toMillis.toInt)
      catch { case e: IOException => throw Failed(s"could not connect to $where: ${e.getMessage}") }
      // Strict: exactly one line ending in '\n', written at once (HELLO-1, HELLO-3).
      socket.getOutputStream.write(Message.line(s"Hello in ${Message.Language}"))
      val halfClose = new Timer("half-close", true)
      halfClose.schedule(new TimerTask {
        def run(): Unit = try socket.shutdownOutput() catch { case _: IOException => } // closing anyway
      }, HalfCloseDelay.toMillis)
      // Lenient: the reply may end with '\n', the server's close or a pause (HELLO-6).
      val reply = try Message.read(socket, Timeout) finally halfClose.cancel()
      reply.map(Message.text) // HELLO-15
        .getOrElse(throw Failed(s"server $where closed the connection without replying"))
    } catch {
      case e: SocketTimeoutException => throw Failed(s"no reply from $where within ${Timeout.toSeconds} s")
      case e: SocketException => throw Failed(s"server $where broke the connection without replying: ${e.getMessage}")
      case e: IOException => throw Failed(s"talking to $where: $e")
    } finally socket.close()
  }

  private def fail(message: String): Nothing = {
    Console.err.println(s"hello client: $message")
    sys.exit(1)
  }
}
