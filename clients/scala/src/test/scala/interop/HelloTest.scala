package interop

import java.net.{InetAddress, ServerSocket, Socket}
import java.nio.charset.StandardCharsets.UTF_8

import scala.concurrent.duration._

import interop.hello.{Client, Message, Server}

/** Message reading (HELLO-2), trimming (HELLO-15), the challenge reply (HELLO-20), an exchange. */
final class HelloTest extends Suite {
  private val loopback = InetAddress.getLoopbackAddress

  /** Runs `peer` on one end of a loopback connection and returns what `read` gives on the other. */
  private def readFrom(peer: Socket => Unit): Option[String] = {
    val listener = new ServerSocket(0, 1, loopback)
    try {
      val client = new Socket(loopback, listener.getLocalPort)
      val writer = new Thread { override def run(): Unit = peer(client) }
      writer.start()
      val server = listener.accept()
      try Message.read(server, 10.seconds) finally { server.close(); writer.join(); client.close() }
    } finally listener.close()
  }

  private def send(s: String)(socket: Socket): Unit = socket.getOutputStream.write(s.getBytes(UTF_8))

  test("a message ends at the newline") {
    check(readFrom(send("Hello in Go\nmore")), Some("Hello in Go"))
  }

  test("a message split in pieces is read whole (HELLO-2)") {
    check(readFrom { s => for (c <- "Hello in Go\n") { send(c.toString)(s); Thread.sleep(20) } }, Some("Hello in Go"))
  }

  test("a message without newline ends at the half-close") {
    check(readFrom { s => send("Hello in C")(s); s.shutdownOutput() }, Some("Hello in C"))
  }

  test("a message without newline ends after the idle gap") {
    check(readFrom { s => send("Hello in Lua")(s); Thread.sleep(3000) }, Some("Hello in Lua"))
  }

  test("a close before any byte is no message") {
    check(readFrom(_.shutdownOutput()), None)
  }

  test("whitespace, CR and NUL around a message are ignored (HELLO-15)") {
    check(Message.text(" \u0000Hello in Go\r\u0000\t "), "Hello in Go")
  }

  test("challenge replies (HELLO-20)") {
    val cases = Map(
      "Hello in Rust" -> "Goodbye Rust from Scala",
      "Hello in Objective  C\r" -> "Goodbye Objective C from Scala",
      "hello IN rust" -> "Goodbye rust from Scala",
      "Hi from Ruby" -> "Goodbye Hi from Ruby from Scala",
      "Hello in" -> "Goodbye Hello in from Scala",
      " \u0000 " -> "Goodbye from Scala")
    for ((message, reply) <- cases) check(Server.challengeReply(message), reply, message)
  }

  /** Runs Client.exchange against Server.serve on loopback. */
  private def exchange(challenge: Boolean): String = {
    val listener = new ServerSocket(0, 1, loopback)
    val server = new Thread { override def run(): Unit = Server.serve(listener.accept(), challenge) }
    server.start()
    try Client.exchange("localhost", listener.getLocalPort)
    finally { server.join(); listener.close() }
  }

  test("client and server (HELLO-3, HELLO-4)") {
    check(exchange(challenge = false), "Goodbye in Scala")
  }

  test("client and challenge server (HELLO-20)") {
    check(exchange(challenge = true), "Goodbye Scala from Scala")
  }

  test("the client fails when the server closes without replying (HELLO-8)") {
    val listener = new ServerSocket(0, 1, loopback)
    val server = new Thread {
      override def run(): Unit = {
        val connection = listener.accept()
        Message.read(connection, 5.seconds) // then close: EOF, no reply
        connection.close()
      }
    }
    server.start()
    val failure = try { Client.exchange("localhost", listener.getLocalPort); None } catch { case Client.Failed(m) => Some(m) }
    server.join()
    listener.close()
    check(failure.exists(_.contains("without replying")), true, failure.toString)
  }
}
