package interop.hello

import java.io.IOException
import java.net.{InetSocketAddress, ServerSocket, Socket, SocketTimeoutException}
import java.util.concurrent.Executors

import scala.concurrent.{ExecutionContext, Future}
import scala.concurrent.duration._

/**
 * The Hello server: `Server PORT [--challenge]` (HELLO-30). Accepts connections until it is
 * stopped (HELLO-13); each one is served by a Future on a pool of threads, with a read
 * deadline, so a silent client never holds up the others (HELLO-14).
 */
object Server {
  /** A client that sends nothing for this long is dropped. */
  val ReadTimeout: FiniteDuration = 10.seconds
  /**
   * Clients served at once; more wait in the queue. Bounded because every thread counts against
   * the container's process limit (128, MANIFEST-15).
   */
  val Workers = 32

  def main(args: Array[String]): Unit = {
    val (port, challenge) = args match {
      case Array(port)                => (port, false)
      case Array(port, "--challenge") => (port, true)
      case _ =>
        Console.err.println("usage: Server PORT [--challenge]")
        sys.exit(2)
    }
    val listener = try {
      val socket = new ServerSocket
      socket.setReuseAddress(true)
      socket.bind(new InetSocketAddress(port.toInt), 128) // all addresses (HELLO-10)
      socket
    } catch {
      case e @ (_: IOException | _: IllegalArgumentException) =>
        Console.err.println(s"hello server: cannot listen on port $port: ${e.getMessage}")
        sys.exit(1)
    }
    implicit val workers = ExecutionContext.fromExecutorService(Executors.newFixedThreadPool(Workers))
    while (true) {
      try {
        val client = listener.accept()
        Future(serve(client, challenge))
      } catch {
        case e: IOException => // e.g. out of file descriptors: keep serving (HELLO-13)
          Console.err.println(s"hello server: accept: ${e.getMessage}")
          Thread.sleep(100)
      }
    }
  }

  /** Reads one message, prints it, replies and closes (HELLO-11, HELLO-12). */
  def serve(client: Socket, challenge: Boolean): Unit = {
    val peer = client.getInetAddress.getHostAddress // IPv4 form for IPv4-mapped peers (HELLO-21)
    try Message.read(client, ReadTimeout) match {
      case None => Console.err.println(s"hello server: $peer closed without a message")
      case Some(message) =>
        // Printed before replying, so that it is on stdout once the client has its reply.
        Message.stdout.synchronized { // one client's lines stay together
          if (challenge) Message.stdout.println(peer) // HELLO-21
          Message.stdout.println(Message.text(message)) // HELLO-11, HELLO-15
        }
        val reply = if (challenge) challengeReply(message) else s"Goodbye in ${Message.Language}" // HELLO-4
        client.getOutputStream.write(Message.line(reply))
        closeGently(client)
    } catch {
      case _: SocketTimeoutException => Console.err.println(s"hello server: $peer sent nothing for ${ReadTimeout.toSeconds} s")
      case e: IOException => Console.err.println(s"hello server: $peer: $e")
    } finally client.close()
  }

  /**
   * The challenge reply (HELLO-20): "Hello in Rust" gives "Goodbye Rust from Scala". Runs of
   * whitespace count as one space and "Hello in" is matched ignoring case; any other message
   * is echoed whole, so a client that says something else sees what the server understood.
   */
  def challengeReply(message: String): String = {
    val language = Message.words(message) match {
      case hello :: in :: rest if rest.nonEmpty && hello.equalsIgnoreCase("Hello") && in.equalsIgnoreCase("in") => rest
      case words => words
    }
    (("Goodbye" :: language) :+ s"from ${Message.Language}").mkString(" ")
  }

  /**
   * Sends FIN, then reads what the client may still send until it closes too (at most one idle
   * gap), then closes (HELLO-12). Closing a socket with unread input makes the kernel send a
   * reset, which can destroy the reply before the client has read it.
   */
  private def closeGently(client: Socket): Unit = {
    client.shutdownOutput()
    client.setSoTimeout(Message.IdleGap.toMillis.toInt)
    val sink = new Array[Byte](4096)
    try while (client.getInputStream.read(sink) >= 0) {} // discard
    catch { case _: SocketTimeoutException => } // the client keeps it open: close anyway
  }
}
