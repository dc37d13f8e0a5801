package interop

import java.io.ByteArrayInputStream
import java.net.{DatagramPacket, DatagramSocket, InetAddress, InetSocketAddress, SocketAddress}
import java.nio.file.{Files, Path}

import scala.collection.JavaConverters._
import scala.util.Random

import interop.rudp._

/**
 * Whole transfers between the Sender and the Receiver on loopback, through a relay that loses
 * and corrupts datagrams both ways. Each test only checks the outcome (the file arrived
 * exactly, or the sender gave up), never how long it took: the build machine may be busy.
 */
final class SenderTest extends Suite {
  private val loopback = InetAddress.getLoopbackAddress

  /**
   * Forwards datagrams between one sender and a receiver, dropping each with probability
   * `loss`, corrupting one byte of 2 % of them, and dropping everything while `blackout` is
   * true.
   */
  private final class LossyRelay(receiver: SocketAddress, loss: Double, seed: Long) {
    val front = new DatagramSocket(0, loopback)
    private val back = new DatagramSocket(0, loopback)
    private val random = new Random(seed)
    @volatile var blackout = false
    @volatile private var sender: Option[SocketAddress] = None

    private def pump(from: DatagramSocket, to: DatagramSocket, destination: DatagramPacket => Option[SocketAddress]): Thread = {
      val thread = new Thread {
        override def run(): Unit = {
          val buffer = new Array[Byte](65536)
          try while (true) {
            val p = new DatagramPacket(buffer, buffer.length)
            from.receive(p)
            val data = java.util.Arrays.copyOf(buffer, p.getLength)
            val (drop, corrupt) = random.synchronized((random.nextDouble() < loss, random.nextDouble() < 0.02))
            if (corrupt && data.nonEmpty) data(data.length / 2) = (data(data.length / 2) ^ 0x20).toByte
            if (!drop && !blackout) destination(p).foreach(d => to.send(new DatagramPacket(data, data.length, d)))
          } catch { case _: java.io.IOException => } // closed
        }
      }
      thread.setDaemon(true)
      thread.start()
      thread
    }

    pump(front, back, p => { sender = Some(p.getSocketAddress); Some(receiver) })
    pump(back, front, _ => sender)

    def address: InetSocketAddress = new InetSocketAddress(loopback, front.getLocalPort)
    def close(): Unit = { front.close(); back.close() }
  }

  /** Sends `input` through a relay to a Receiver writing into a fresh directory; returns its files. */
  private def transfer(input: Array[Byte], loss: Double, seed: Long, sack: Boolean = false)(during: LossyRelay => Unit = _ => ()): Map[String, Array[Byte]] = {
    val out = Files.createTempDirectory("transfer")
    val receiverSocket = new DatagramSocket(0, loopback)
    val receiver = new Receiver(out, 10L * 1000000000, sack)
    val serving = new Thread { override def run(): Unit = try Receiver.serve(receiverSocket, receiver) catch { case _: java.io.IOException => } }
    serving.setDaemon(true)
    serving.start()
    val relay = new LossyRelay(receiverSocket.getLocalSocketAddress, loss, seed)
    val socket = new DatagramSocket()
    try {
      socket.connect(relay.address)
      during(relay)
      new Sender(socket, new ByteArrayInputStream(input), seed % 1000, sack).run()
      files(out)
    } finally {
      socket.close()
      relay.close()
      receiverSocket.close()
      Files.list(out).iterator.asScala.foreach(Files.delete)
      Files.delete(out)
    }
  }

  private def files(dir: Path) =
    Files.list(dir).iterator.asScala.map(p => p.getFileName.toString -> Files.readAllBytes(p)).toMap

  private def randomBytes(size: Int, seed: Long) = {
    val bytes = new Array[Byte](size)
    new Random(seed).nextBytes(bytes)
    bytes
  }

  private def checkOneFile(files: Map[String, Array[Byte]], input: Array[Byte]): Unit = {
    check(files.size, 1, s"files ${files.keys.mkString(", ")}")
    check(files.keys.head.endsWith(".partial"), false, "complete file's name")
    check(files.values.head, input, "content")
  }

  test("clean: an empty file") {
    checkOneFile(transfer(Array.emptyByteArray, 0, 1)(), Array.emptyByteArray)
  }

  test("20 % loss and corruption both ways: 200 KB of binary data arrive exactly") {
    val input = randomBytes(200000, 2)
    checkOneFile(transfer(input, 0.2, 2)(), input)
  }

  test("the same with SACK (RUDP-30..RUDP-32)") {
    val input = randomBytes(200000, 3)
    checkOneFile(transfer(input, 0.2, 3, sack = true)(), input)
  }

  test("survives a 2 s blackout (RUDP-44)") {
    val input = randomBytes(100000, 4)
    checkOneFile(transfer(input, 0.05, 4) { relay =>
      relay.blackout = true
      val end = new Thread { override def run(): Unit = { Thread.sleep(2000); relay.blackout = false } }
      end.setDaemon(true)
      end.start()
    }, input)
  }

  test("gives up when nobody answers (RUDP-44)") {
    val socket = new DatagramSocket()
    val silent = new DatagramSocket(0, loopback) // bound, never answers
    try {
      socket.connect(silent.getLocalSocketAddress)
      val sender = new Sender(socket, new ByteArrayInputStream(Array[Byte](1, 2, 3)), 0, giveUpAfter = 1000000000L)
      val gaveUp = try { sender.run(); false } catch { case _: Sender.GiveUp => true }
      check(gaveUp, true, "GiveUp thrown")
    } finally {
      socket.close()
      silent.close()
    }
  }
}
