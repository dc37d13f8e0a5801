# frozen_string_literal: true

require "io/wait"
require "socket"

# Hello Internet over TCP (spec/hello.md): what the client and the server
# share. We send a message as one UTF-8 line ending in "\n" (HELLO-1), and
# receive leniently (HELLO-2): a message also ends when the peer closes its
# side, or when it has sent something and then stays quiet for a second,
# because some programs never send the newline.
module Hello
  LANGUAGE = "Ruby"
  IDLE_GAP = 1.0          # HELLO-2: this long a pause after some bytes ends a message
  TIMEOUT = 10.0          # the longest wait for a message (and a client's whole run)
  MAX_MESSAGE = 64 * 1024 # longer messages are cut here
  BLANK = /[[:space:]\0]+/ # HELLO-15: whitespace, and the NUL padding of C programs

  # The peer sent nothing before its close, or nothing before the deadline.
  class NoMessage < StandardError; end

  module_function

  def clock = Process.clock_gettime(Process::CLOCK_MONOTONIC)

  # Reads one message leniently (HELLO-2): up to "\n", the peer's close or
  # reset, or an idle gap of IDLE_GAP after some bytes. Returns the bytes
  # before the "\n", or nil if the peer closed without sending anything;
  # raises NoMessage if nothing came by +deadline+ (a clock value), which
  # also ends a message that is still trickling in.
  def read_message(socket, deadline)
    data = "".b
    until data.include?("\n") || data.bytesize >= MAX_MESSAGE
      wait = deadline - clock
      wait = [wait, IDLE_GAP].min unless data.empty?
      unless wait.positive? && socket.wait_readable(wait)
        raise NoMessage, "nothing arrived within #{TIMEOUT.round} s" if data.empty?

        break # the idle gap: a message without "\n"
      end
      data << socket.readpartial(4096)
    end
    first_line(data)
  rescue EOFError, Errno::ECONNRESET # the peer closed: what came before is intact
    data.empty? ? nil : first_line(data)
  end

  def first_line(data) = data.split("\n", 2).first.to_s.byteslice(0, MAX_MESSAGE)

  # The text of a message: UTF-8, without surrounding whitespace such as
  # "\r\n" or NUL bytes (HELLO-15).
  def text(message)
    message.dup.force_encoding(Encoding::UTF_8).scrub.gsub(/\A#{BLANK}|#{BLANK}\z/o, "")
  end

  # HELLO-20: the challenge reply to a client's message, "Goodbye X from
  # Ruby", where X is what follows "Hello in" (any letter case), or the whole
  # message if it does not start so; runs of whitespace count as one space.
  def challenge_reply(message)
    words = text(message).split(BLANK)
    words = words.drop(2) if words.size >= 3 && words[0].casecmp?("hello") && words[1].casecmp?("in")
    ["Goodbye", *words, "from", LANGUAGE].join(" ") + "\n"
  end
end
