# frozen_string_literal: true

require_relative "test_helper"
require "socket"
require "hello"

class HelloTest < Minitest::Test
  # spec/hello.md, HELLO-20: the examples.
  def test_challenge_reply
    {
      "Hello in Rust" => "Goodbye Rust from Ruby\n",
      "Hello in Objective  C" => "Goodbye Objective C from Ruby\n",
      "hello in rust" => "Goodbye rust from Ruby\n",
      "HELLO IN Go\r" => "Goodbye Go from Ruby\n",
      "Hi from Ruby" => "Goodbye Hi from Ruby from Ruby\n",
      "Hello in" => "Goodbye Hello in from Ruby\n",
      " \t\0" => "Goodbye from Ruby\n",
      "\0Hello in C\0\0\0" => "Goodbye C from Ruby\n"
    }.each do |message, reply|
      assert_equal reply, Hello.challenge_reply(message.b), message.inspect
    end
  end

  # HELLO-15: whitespace and NUL bytes around a message are not part of it.
  def test_text_trims_whitespace_and_nul
    assert_equal "Hello in Go", Hello.text("\0 Hello in Go \r\0".b)
    assert_equal "Hello in Café", Hello.text("Hello in Caf\xC3\xA9\r".b)
  end

  def test_message_ends_at_newline
    exchange("Hello in Go\nmore") do |peer|
      assert_equal "Hello in Go", Hello.read_message(peer, Hello.clock + 5)
    end
  end

  def test_message_ends_at_close
    exchange("Hello in Go", close: true) do |peer|
      assert_equal "Hello in Go", Hello.read_message(peer, Hello.clock + 5)
    end
  end

  # HELLO-2: no newline and no close: the idle gap ends the message, after
  # at least a second and not much more.
  def test_message_ends_after_an_idle_gap
    exchange("Hello in Go") do |peer|
      started = Hello.clock
      assert_equal "Hello in Go", Hello.read_message(peer, started + 5)
      assert_in_delta Hello::IDLE_GAP, Hello.clock - started, 0.3
    end
  end

  # A message split into many pieces is read whole (never one read).
  def test_message_in_pieces
    a, b = UNIXSocket.pair
    writer = Thread.new { "Hello in Go\n".each_char { |c| a.write(c); sleep 0.02 } }
    assert_equal "Hello in Go", Hello.read_message(b, Hello.clock + 5)
    writer.join
  ensure
    [a, b].each(&:close)
  end

  def test_close_without_a_message
    exchange("", close: true) { |peer| assert_nil Hello.read_message(peer, Hello.clock + 5) }
  end

  def test_nothing_before_the_deadline
    exchange("") do |peer|
      assert_raises(Hello::NoMessage) { Hello.read_message(peer, Hello.clock + 0.2) }
    end
  end

  private

  def exchange(sent, close: false)
    a, b = UNIXSocket.pair
    a.write(sent)
    a.close_write if close
    yield b
  ensure
    [a, b].each(&:close)
  end
end
