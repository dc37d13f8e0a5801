# frozen_string_literal: true

require_relative "test_helper"
require "rudp"

class CodecTest < Minitest::Test
  def test_crc32_check_value
    assert_equal 3_421_780_262, RUDP.checksum("123456789")
  end

  # spec/rudp.md, RUDP-4: the worked example.
  def test_checksum_worked_example
    assert_equal 1_374_653_333, RUDP.checksum("start|0|hello|")
    assert_equal "start|0|hello|1374653333".b, RUDP.encode("start", 0, "hello")
  end

  # Above 2**31: a signed 32-bit checksum would print as -2099598510.
  def test_checksum_is_unsigned
    assert_equal "ack|1|2195368786".b, RUDP.encode_ack(1)
  end

  # spec/rudp.md, RUDP-5: the worked example; data keeps its "|".
  def test_parse_data_containing_pipes
    packet = RUDP.parse("data|7|a|b|3661478912")
    assert_equal ["data", 7, "a|b".b], [packet.type, packet.seqno, packet.data]
  end

  def test_binary_data_round_trips
    data = (0..255).map(&:chr).join.b * 4 + "|end|1||".b
    packet = RUDP.parse(RUDP.encode("data", 42, data))
    assert_equal data, packet.data
    assert_equal Encoding::BINARY, packet.data.encoding
  end

  def test_sack_encoding
    assert_equal "sack|3;5,6|2211952226".b, RUDP.encode_ack(3, [5, 6])
    assert_equal [5, 6], RUDP.parse("sack|3;5,6|2211952226").sacks
  end

  def test_corrupted_datagram_is_rejected
    error = assert_raises(RUDP::Malformed) { RUDP.parse("start|0|hellp|1374653333") }
    assert_equal :checksum, error.error
  end

  # RUDP-2, RUDP-46: a full packet is at most 1472 bytes, whatever its
  # seqno and checksum, and no more than a few bytes short of it.
  def test_max_payload_fills_the_datagram
    [0, 9, 10, 123_456, 2**64 - 2].each do |seqno|
      %w[start data end].each do |type|
        datagram = RUDP.encode(type, seqno, "x" * RUDP.max_payload(type, seqno))
        assert_operator datagram.bytesize, :<=, RUDP::MAX_DATAGRAM
        assert_operator datagram.bytesize, :>=, RUDP::MAX_DATAGRAM - 9
      end
    end
  end
end
