# frozen_string_literal: true

require_relative "test_helper"
require "tmpdir"
require "rudp/receiver"

# What the spec's receiver scripts leave open.
class ReceiverTest < Minitest::Test
  def setup
    @dir = Dir.mktmpdir
  end

  def teardown
    FileUtils.rm_rf(@dir)
  end

  # RUDP-31: the sack lists held seqnos in ascending order, whatever order
  # they arrived in.
  def test_sack_list_is_ascending
    receiver = RUDP::Receiver.new(dir: @dir, sack: true)
    receiver.handle(RUDP.encode("start", 0, "a"), "10.0.0.1", 5000, 0)
    receiver.handle(RUDP.encode("data", 4, "e"), "10.0.0.1", 5000, 0)
    receiver.handle(RUDP.encode("data", 2, "c"), "10.0.0.1", 5000, 0)
    assert_equal RUDP.encode_ack(1, [2, 3, 4]), receiver.handle(RUDP.encode("data", 3, "d"), "10.0.0.1", 5000, 0)
  end

  # RUDP-14: when the ack of end is returned, the file is complete, closed
  # and under its final name.
  def test_file_is_complete_before_end_is_acked
    receiver = RUDP::Receiver.new(dir: @dir)
    receiver.handle(RUDP.encode("start", 7, "Hello "), "10.0.0.1", 5000, 0)
    receiver.handle(RUDP.encode("data", 8, "world"), "10.0.0.1", 5000, 0)
    assert_equal ["10.0.0.1.5000.partial"], Dir.children(@dir)
    assert_equal RUDP.encode_ack(10), receiver.handle(RUDP.encode("end", 9, "!"), "10.0.0.1", 5000, 0)
    assert_equal ["10.0.0.1.5000"], Dir.children(@dir)
    assert_equal "Hello world!", File.binread(File.join(@dir, "10.0.0.1.5000"))
  end

  # RUDP-16: IPv6 colons are not kept in file names.
  def test_ipv6_file_name
    assert_equal "2001_db8__1.6000", RUDP::Receiver.file_name("2001:db8::1", 6000)
  end
end
