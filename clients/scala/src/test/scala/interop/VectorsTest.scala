package interop

import java.net.{InetAddress, InetSocketAddress}
import java.nio.file.{Files, Path}
import java.util.Base64

import scala.collection.JavaConverters._
import scala.io.{Codec, Source}

import interop.rudp._

/** Runs spec/vectors/datagrams.json and receiver.json (copies in src/test/resources/vectors). */
final class VectorsTest(dir: Path) extends Suite {
  private type Obj = Map[String, Any]

  private def load(name: String): List[Obj] = {
    val text = Source.fromFile(dir.resolve(name).toFile)(Codec.UTF8).mkString
    Json.parse(text).asInstanceOf[Obj]("vectors").asInstanceOf[List[Obj]]
  }

  private def bytes(o: Any): Array[Byte] = Base64.getDecoder.decode(o.asInstanceOf[Obj]("base64").asInstanceOf[String])
  private def seqno(o: Any): Long = java.lang.Long.parseUnsignedLong(o.asInstanceOf[String])

  for (v <- load("datagrams.json")) test(s"datagram: ${v("name")}") {
    val datagram = bytes(v("datagram"))
    (Rudp.parse(datagram, datagram.length), v("valid")) match {
      case (Right(packet), true) =>
        val expected = v("packet").asInstanceOf[Obj]
        val sacks = expected.get("sacks").map(_.asInstanceOf[List[Any]].map(seqno)).getOrElse(Nil)
        packet match {
          case Segment(kind, n, data) =>
            check(kind.name, expected("type"), "type")
            check(n, seqno(expected("seqno")), "seqno")
            check(data, bytes(expected("data")), "data")
            if (v.get("canonical").contains(true)) check(Rudp.encode(kind, n, data), datagram, "encoded")
          case ack @ Ack(next, held) =>
            check(if (held.isDefined) "sack" else "ack", expected("type"), "type")
            check(next, seqno(expected("seqno")), "seqno")
            check(held.getOrElse(Nil), sacks, "sacks")
            if (v.get("canonical").contains(true)) check(Rudp.encode(ack), datagram, "encoded")
        }
      case (Left(invalid), false) => check(invalid.kind, v("error"), "error class")
      case (result, _) => throw new AssertionError(s"valid should be ${v("valid")}, parsed as $result")
    }
  }

  private def address(s: String): InetSocketAddress = {
    val colon = s.lastIndexOf(':')
    new InetSocketAddress(InetAddress.getByName(s.substring(0, colon).stripPrefix("[").stripSuffix("]")),
      s.substring(colon + 1).toInt)
  }

  for (v <- load("receiver.json")) test(s"receiver: ${v("name")}") {
    val out = Files.createTempDirectory("receiver-vectors")
    try {
      val timeout = v("idle_timeout_ms").asInstanceOf[Double].toLong * 1000000
      val receiver = new Receiver(out, timeout, sack = v("sack") == true)
      for ((step, i) <- v("steps").asInstanceOf[List[Obj]].zipWithIndex) {
        val datagram = bytes(step("datagram"))
        val now = step("at_ms").asInstanceOf[Double].toLong * 1000000
        val ack = receiver.handle(address(step("from").asInstanceOf[String]), datagram, datagram.length, now)
        check(ack.map(Bytes.escape), Option(step("ack")).map(a => Bytes.escape(bytes(a))),
          s"step $i (${Bytes.escape(datagram)})")
      }
      // Names are free (MANIFEST-11): compare which files are complete and what they hold.
      // (Ours are the reference's, <ip>.<port>, except that IPv6 addresses are not shortened.)
      def summary(files: Iterator[(String, String)]) =
        files.map { case (name, content) => (name.endsWith(".partial"), content) }.toList.sortBy(_.toString)
      val expected = summary(v("files").asInstanceOf[List[Obj]].iterator
        .map(f => f("name").asInstanceOf[String] -> Bytes.escape(bytes(f("content")))))
      val actual = summary(Files.list(out).iterator.asScala
        .map(p => p.getFileName.toString -> Bytes.escape(Files.readAllBytes(p))))
      check(actual, expected, "files (complete?, content)")
    } finally {
      Files.list(out).iterator.asScala.foreach(Files.delete)
      Files.delete(out)
    }
  }
}
