package interop.rudp

import java.nio.charset.StandardCharsets.{ISO_8859_1, US_ASCII}
import java.util.zip.CRC32

/** The kinds of packet a sender sends (RUDP-1, RUDP-7). */
sealed abstract class Kind(val name: String)

object Kind {
  case object Start extends Kind("start")
  case object Data extends Kind("data")
  case object End extends Kind("end")

  val byName: Map[String, Kind] = Seq(Start, Data, End).map(k => k.name -> k).toMap
}

/** One decoded datagram. */
sealed trait Packet

/** `start`, `data` or `end`. The data is binary: any bytes, `|` included (RUDP-5). */
final case class Segment(kind: Kind, seqno: Long, data: Array[Byte]) extends Packet

/**
 * `ack|<next>|` (sacks = None) or, in SACK mode, `sack|<next>;<s1>,<s2>...|` (sacks = the held
 * seqnos): the next seqno the receiver expects (RUDP-6, RUDP-13, RUDP-30).
 */
final case class Ack(next: Long, sacks: Option[List[Long]] = None) extends Packet

/**
 * Why a datagram was rejected: `kind` is one of the error classes of spec/vectors/README.md
 * (too_long, malformed, checksum, type, seqno, sack). Receivers drop such datagrams silently
 * (RUDP-8) and senders ignore such acks (RUDP-6).
 */
final case class Invalid(kind: String, reason: String)

/**
 * The RUDP datagram codec (spec/rudp.md): checksum, encoding and binary-safe parsing.
 *
 * Seqnos are unsigned 64-bit numbers (RUDP-3). Scala's `Long` is signed, so they are printed
 * with `java.lang.Long.toUnsignedString` and compared with [[Rudp.unsigned]].
 */
object Rudp {
  /** The largest datagram either side may send or accept (RUDP-2). */
  val MaxDatagram = 1472
  /** The window of both sides (RUDP-12, RUDP-40). */
  val Window = 5

  /** Seqnos in unsigned order (a sack lists them ascending, RUDP-31). */
  val unsigned: Ordering[Long] = Ordering.fromLessThan(java.lang.Long.compareUnsigned(_, _) < 0)

  def show(seqno: Long): String = java.lang.Long.toUnsignedString(seqno)

  /** Unsigned CRC-32/IEEE (zlib's crc32) of the first `length` bytes (RUDP-4). */
  def checksum(bytes: Array[Byte], length: Int): Long = {
    val crc = new CRC32
    crc.update(bytes, 0, length)
    crc.getValue
  }

  /** `<kind>|<seqno>|<data>|<checksum>` (RUDP-1). */
  def encode(kind: Kind, seqno: Long, data: Array[Byte]): Array[Byte] =
    withChecksum(ascii(s"${kind.name}|${show(seqno)}|") ++ data :+ '|'.toByte)

  /** `ack|<next>|<checksum>`, or `sack|<next>;<s1>,...|<checksum>` when sacks are given. */
  def encode(ack: Ack): Array[Byte] = withChecksum(ascii(ack.sacks match {
    case None       => s"ack|${show(ack.next)}|"
    case Some(held) => s"sack|${show(ack.next)};${held.map(show).mkString(",")}|"
  }))

  /** Bytes of data that fit in one datagram of this kind and seqno (RUDP-2, RUDP-46). */
  def maxPayload(kind: Kind, seqno: Long): Int =
    // "<kind>|<seqno>|" before the data, "|" and at most 10 checksum digits after it.
    MaxDatagram - (kind.name.length + 1 + show(seqno).length + 1 + 1 + 10)

  /**
   * Decodes the first `length` bytes of `bytes` as RUDP-5 says: the type runs to the first
   * `|`, the seqno to the second, the checksum follows the LAST `|`, and the data is all that
   * lies between, so it may itself hold `|` or any other byte. Checks in the order of
   * spec/vectors/README.md, so the error class is the one the vectors expect.
   */
  def parse(bytes: Array[Byte], length: Int): Either[Invalid, Packet] = {
    def invalid(kind: String, reason: String) = Left(Invalid(kind, reason))
    val last = bytes.lastIndexOf('|'.toByte, length - 1)
    if (length > MaxDatagram) invalid("too_long", s"$length bytes, more than $MaxDatagram")
    else if (last < 0) invalid("malformed", "no '|'")
    else {
      val sum = latin1(bytes, last + 1, length)
      val first = bytes.indexOf('|'.toByte)
      val second = bytes.indexOf('|'.toByte, first + 1)
      // The course receiver compares checksums as text, so only the canonical decimal form
      // (no sign, no leading zero) is right (RUDP-4).
      if (sum.isEmpty || !sum.forall(isDigit)) invalid("malformed", s"checksum field '$sum'")
      else if (sum != checksum(bytes, last + 1).toString) invalid("checksum", "checksum mismatch")
      else if (first == last) invalid("malformed", "only one '|'")
      else latin1(bytes, 0, first) match {
        case "ack" | "sack" if second != last => invalid("malformed", "an ack has two fields")
        case "ack" => decimal(bytes, first + 1, last, "seqno").right.map(Ack(_))
        case "sack" => parseSack(latin1(bytes, first + 1, last))
        case name => Kind.byName.get(name) match {
          case None => invalid("type", s"unknown type '$name'")
          case Some(_) if second == last => invalid("malformed", "no data field")
          case Some(kind) =>
            decimal(bytes, first + 1, second, "seqno").right
              .map(Segment(kind, _, bytes.slice(second + 1, last)))
        }
      }
    }
  }

  /** `<cum>;<s1>,<s2>,...`; the list may be empty, and without `;` it is (RUDP-30). */
  private def parseSack(field: String): Either[Invalid, Packet] = {
    val (cum, list) = field.span(_ != ';')
    for {
      next <- decimal(cum, "seqno").right
      held <- sequence(list.drop(1) match {
        case "" => Nil
        case seqnos => seqnos.split(",", -1).toList.map(decimal(_, "sack"))
      }).right
    } yield Ack(next, Some(held))
  }

  private def sequence[A](results: List[Either[Invalid, A]]): Either[Invalid, List[A]] =
    results.collectFirst { case Left(e) => e }.toLeft(results.collect { case Right(a) => a })

  private def decimal(bytes: Array[Byte], from: Int, to: Int, kind: String): Either[Invalid, Long] =
    decimal(latin1(bytes, from, to), kind)

  /**
   * 1 to 20 ASCII digits with a value below 2^64: no sign, no space, no other digit characters
   * (RUDP-3). Leading zeros are accepted. `kind` is the error class otherwise.
   */
  private def decimal(digits: String, kind: String): Either[Invalid, Long] =
    if (digits.isEmpty || digits.length > 20 || !digits.forall(isDigit))
      Left(Invalid(kind, s"'$digits' is not a decimal number"))
    else
      try Right(java.lang.Long.parseUnsignedLong(digits))
      catch { case _: NumberFormatException => Left(Invalid(kind, s"$digits does not fit in 64 bits")) }

  /** Only ASCII digits: `Char.isDigit` would also take other scripts' digits. */
  private def isDigit(c: Char) = c >= '0' && c <= '9'

  private def withChecksum(head: Array[Byte]): Array[Byte] =
    head ++ ascii(checksum(head, head.length).toString)

  private def ascii(s: String): Array[Byte] = s.getBytes(US_ASCII)

  /** One char per byte, so that any byte can be looked at without decoding errors. */
  private def latin1(bytes: Array[Byte], from: Int, to: Int) =
    new String(bytes, from, math.max(0, to - from), ISO_8859_1)
}
