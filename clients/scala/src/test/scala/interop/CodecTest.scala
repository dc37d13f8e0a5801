package interop

import java.io.ByteArrayInputStream
import java.nio.charset.StandardCharsets.US_ASCII

import interop.rudp._

/** The codec, the packetizer and the RTO against spec/rudp.md's worked examples and rules. */
final class CodecTest extends Suite {
  private def ascii(s: String) = s.getBytes(US_ASCII)

  test("CRC-32 check value (RUDP-4)") {
    check(Rudp.checksum(ascii("123456789"), 9), 3421780262L)
  }

  test("worked examples of spec/rudp.md") {
    check(new String(Rudp.encode(Kind.Start, 0, ascii("hello")), US_ASCII), "start|0|hello|1374653333")
    check(new String(Rudp.encode(Ack(1)), US_ASCII), "ack|1|2195368786") // above 2^31: unsigned
    check(new String(Rudp.encode(Ack(3, Some(List(5L, 6L)))), US_ASCII), "sack|3;5,6|2211952226")
  }

  test("data with pipes comes back whole (RUDP-5)") {
    val datagram = ascii("data|7|a|b|3661478912")
    Rudp.parse(datagram, datagram.length) match {
      case Right(Segment(Kind.Data, 7, data)) => check(new String(data, US_ASCII), "a|b")
      case other => throw new AssertionError(other.toString)
    }
  }

  test("only the first `length` bytes of a buffer count") {
    val buffer = ascii("ack|1|2195368786") ++ Array.fill(100)('|'.toByte)
    check(Rudp.parse(buffer, 16), Right(Ack(1)))
  }

  test("the largest seqno encodes unsigned (RUDP-3)") {
    check(new String(Rudp.encode(Ack(-1L)), US_ASCII).split('|')(1), "18446744073709551615")
  }

  private def packets(size: Int, first: Long) = {
    val input = Array.tabulate(size)(i => (i * 7919).toByte) // every byte value, '|' included
    val packetizer = new Packetizer(new ByteArrayInputStream(input), first)
    (input, Iterator.continually(packetizer.next()).takeWhile(_.isDefined).map(_.get).toList)
  }

  private def decode(datagram: Array[Byte]) = Rudp.parse(datagram, datagram.length) match {
    case Right(s: Segment) => s
    case other => throw new AssertionError(s"not a segment: $other")
  }

  test("an empty file is an empty start and an empty end (RUDP-7)") {
    val (_, list) = packets(0, 5)
    check(list.map { case (n, kind, d) => (n, kind, decode(d).data.length) }, List((5L, Kind.Start, 0), (6L, Kind.End, 0)))
  }

  test("a one-packet file: start carries it, end is empty (RUDP-7)") {
    val (_, list) = packets(100, 0)
    check(list.map { case (n, kind, d) => (kind, decode(d).data.length) }, List((Kind.Start, 100), (Kind.End, 0)))
  }

  test("packets are full, at most 1472 bytes, consecutive, and rebuild the file (RUDP-2, RUDP-7, RUDP-46)") {
    for (size <- Seq(1440, 1441, 5000, 100000); first <- Seq(0L, 99995L)) {
      val (input, list) = packets(size, first)
      check(list.map(_._1), List.tabulate(list.size)(first + _), s"seqnos for $size")
      check(list.map(_._2), Kind.Start :: List.fill(list.size - 2)(Kind.Data) ::: List(Kind.End), s"kinds for $size")
      check(list.map(_._3.length).max <= Rudp.MaxDatagram, true, s"size limit for $size")
      check(list.dropRight(2).forall(_._3.length >= 1460), true, s"full datagrams for $size")
      check(list.flatMap(p => decode(p._3).data).toArray, input, s"content for $size")
    }
  }

  test("RTO: 500 ms at first, RFC 6298 after samples, within 200 ms .. 1 s (RUDP-41)") {
    val ms = 1000000L
    val rtt = new RttEstimator
    check(rtt.rto, 500 * ms)
    rtt.backOff()
    check(rtt.rto, 1000 * ms, "backoff capped")
    rtt.sample(100 * ms) // srtt 100, rttvar 50: 100 + 200
    check(rtt.rto, 300 * ms)
    rtt.sample(100 * ms) // rttvar 37.5
    check(rtt.rto, 250 * ms)
    rtt.sample(1 * ms)
    for (_ <- 1 to 20) rtt.sample(1 * ms)
    check(rtt.rto, 200 * ms, "floor")
    rtt.backOff()
    rtt.backOff()
    check(rtt.rto, 800 * ms)
    rtt.reset()
    check(rtt.rto, 200 * ms, "progress ends the backoff")
  }
}
