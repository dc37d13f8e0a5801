package interop

import scala.collection.mutable
import scala.util.control.NonFatal

/**
 * A minimal test framework (the base image has no ScalaTest): a suite registers named tests
 * with `test("name") { ... }`; a test fails when its body throws, e.g. from `assert` or
 * [[Suite.check]].
 */
abstract class Suite {
  private val tests = mutable.ArrayBuffer.empty[(String, () => Unit)]

  protected def test(name: String)(body: => Unit): Unit = tests += (name -> (() => body))

  /** Fails with both values shown unless they are equal (arrays by content). */
  protected def check[A](actual: A, expected: A, clue: => String = ""): Unit = {
    val same = (actual, expected) match {
      case (a: Array[_], e: Array[_]) => a.toSeq == e.toSeq
      case _                          => actual == expected
    }
    if (!same) throw new AssertionError(s"$clue${if (clue.isEmpty) "" else ": "}expected ${show(expected)}, got ${show(actual)}")
  }

  private def show(value: Any): String = value match {
    case bytes: Array[Byte] => Bytes.escape(bytes)
    case other              => String.valueOf(other)
  }

  /** Runs every test; returns (passed, failed). */
  def run(): (Int, Int) = {
    val suite = getClass.getSimpleName.stripSuffix("$")
    val failures = tests.count { case (name, body) =>
      try { body(); false }
      catch {
        case NonFatal(e) =>
          Console.err.println(s"FAIL $suite: $name: $e")
          true
      }
    }
    println(s"$suite: ${tests.size - failures} passed, $failures failed")
    (tests.size - failures, failures)
  }
}

object Bytes {
  /** The `escaped` form of spec/vectors/README.md, for messages. */
  def escape(bytes: Array[Byte]): String = bytes.map { b =>
    val c = b & 0xff
    if (c == '\\') "\\\\" else if (c >= 0x20 && c <= 0x7e) c.toChar.toString else f"\\x$c%02x"
  }.mkString
}

/** Runs every suite: `AllTests VECTORS_DIR`. Exits 1 if any test failed. */
object AllTests {
  def main(args: Array[String]): Unit = {
    val vectors = java.nio.file.Paths.get(args.headOption.getOrElse("src/test/resources/vectors"))
    val suites = Seq(new CodecTest, new VectorsTest(vectors), new SenderTest, new HelloTest)
    val (passed, failed) = suites.map(_.run()).foldLeft((0, 0)) { case ((p, f), (p1, f1)) => (p + p1, f + f1) }
    println(s"$passed passed, $failed failed")
    sys.exit(if (failed == 0) 0 else 1)
  }
}
