package interop

import scala.annotation.tailrec

/**
 * Just enough JSON to read spec/vectors/ (the base image has no JSON library that is not
 * deprecated): objects become Map[String, Any], arrays List[Any], numbers Double, and
 * strings, booleans and null the obvious.
 */
object Json {
  def parse(text: String): Any = {
    val (value, end) = new Parser(text).value(0)
    require(text.substring(end).trim.isEmpty, s"trailing text at $end")
    value
  }

  private final class Parser(s: String) {
    @tailrec private def skip(i: Int): Int = if (i < s.length && s(i).isWhitespace) skip(i + 1) else i

    /** The value starting at or after `from`, and the index after it. */
    def value(from: Int): (Any, Int) = {
      val i = skip(from)
      s(i) match {
        case '{' => members(i + 1, Map.empty)
        case '[' => elements(i + 1, Vector.empty)
        case '"' => string(i + 1, new StringBuilder)
        case 't' if s.startsWith("true", i)  => (true, i + 4)
        case 'f' if s.startsWith("false", i) => (false, i + 5)
        case 'n' if s.startsWith("null", i)  => (null, i + 4)
        case _ =>
          val end = s.indexWhere(c => !(c.isDigit || "+-.eE".contains(c)), i)
          val stop = if (end < 0) s.length else end
          (s.substring(i, stop).toDouble, stop)
      }
    }

    @tailrec private def members(from: Int, acc: Map[String, Any]): (Map[String, Any], Int) = {
      val i = skip(from)
      if (s(i) == '}') (acc, i + 1)
      else if (s(i) == ',') members(i + 1, acc)
      else {
        val (key, afterKey) = value(i)
        val colon = skip(afterKey)
        require(s(colon) == ':', s"':' expected at $colon")
        val (v, next) = value(colon + 1)
        members(next, acc + (key.asInstanceOf[String] -> v))
      }
    }

    @tailrec private def elements(from: Int, acc: Vector[Any]): (List[Any], Int) = {
      val i = skip(from)
      if (s(i) == ']') (acc.toList, i + 1)
      else if (s(i) == ',') elements(i + 1, acc)
      else {
        val (v, next) = value(i)
        elements(next, acc :+ v)
      }
    }

    @tailrec private def string(i: Int, acc: StringBuilder): (String, Int) = s(i) match {
      case '"' => (acc.toString, i + 1)
      case '\\' =>
        s(i + 1) match {
          case 'u' => string(i + 6, acc += Integer.parseInt(s.substring(i + 2, i + 6), 16).toChar)
          case c   => string(i + 2, acc += (c match {
            case 'n' => '\n'; case 't' => '\t'; case 'r' => '\r'; case 'b' => '\b'; case 'f' => '\f'
            case other => other // '"', '\\', '/'
          }))
        }
      case c => string(i + 1, acc += c)
    }
  }
}
