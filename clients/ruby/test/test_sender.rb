# frozen_string_literal: true

require_relative "test_helper"
require "stringio"
require "rudp/sender"

class PacketizerTest < Minitest::Test
  # All packets of +input+ as [type, seqno, data].
  def packets(input, first_seqno = 7)
    packetizer = RUDP::Packetizer.new(StringIO.new(input.b), first_seqno)
    list = []
    while (packet = packetizer.next_packet)
      flunk "more packets than the input needs" if list.size > input.bytesize / 1000 + 2
      seqno, datagram, last = packet
      parsed = RUDP.parse(datagram)
      assert_equal seqno, parsed.seqno
      assert_equal last, parsed.type == "end"
      assert_operator datagram.bytesize, :<=, RUDP::MAX_DATAGRAM
      list << [parsed.type, parsed.seqno, parsed.data]
    end
    list
  end

  # spec/rudp.md, RUDP-7: the table of how a file is split.
  def test_empty_file_is_an_empty_start_and_an_empty_end
    assert_equal [["start", 7, ""], ["end", 8, ""]], packets("")
  end

  def test_one_byte_travels_in_start
    assert_equal [["start", 7, "x"], ["end", 8, ""]], packets("x")
  end

  def test_exactly_one_full_start
    full = "s" * RUDP.max_payload("start", 7)
    assert_equal [["start", 7, full], ["end", 8, ""]], packets(full)
  end

  def test_larger_file_ends_with_its_last_piece_in_end
    start_size = RUDP.max_payload("start", 7)
    data_size = RUDP.max_payload("data", 8)
    input = Random.new(1).bytes(start_size + 2 * data_size + 100)
    list = packets(input)
    assert_equal %w[start data data end], list.map(&:first)
    assert_equal (7..10).to_a, list.map { _2 }
    assert_equal [start_size, data_size, data_size, 100], list.map { _3.bytesize }
    assert_equal input, list.map(&:last).join
  end

  def test_input_ending_on_a_packet_boundary
    input = "a" * (RUDP.max_payload("start", 7) + RUDP.max_payload("data", 8))
    list = packets(input)
    assert_equal %w[start end], list.map(&:first)
    assert_equal input, list.map(&:last).join
  end

  # RUDP-46: full datagrams, also where the seqno gains a digit.
  def test_datagrams_are_full_across_seqno_digits
    input = Random.new(2).bytes(30_000)
    packetizer = RUDP::Packetizer.new(StringIO.new(input), 995)
    sizes = []
    while (packet = packetizer.next_packet)
      sizes << packet[1].bytesize
      flunk "more packets than the input needs" if sizes.size > 30
    end
    assert sizes[0..-2].all? { |size| size.between?(RUDP::MAX_DATAGRAM - 9, RUDP::MAX_DATAGRAM) }, sizes.inspect
  end
end

class RttEstimatorTest < Minitest::Test
  def setup
    @rtt = RUDP::RttEstimator.new
  end

  # RUDP-41: 500 ms until the first sample.
  def test_starts_at_500_ms
    assert_in_delta 0.5, @rtt.rto
    @rtt.reset
    assert_in_delta 0.5, @rtt.rto
  end

  def test_first_sample_rfc6298
    @rtt.sample(0.1) # SRTT = 0.1, RTTVAR = 0.05: RTO = 0.1 + 4 * 0.05
    assert_in_delta 0.1, @rtt.srtt
    assert_in_delta 0.3, @rtt.rto
  end

  def test_later_samples_smooth
    @rtt.sample(0.1)
    @rtt.sample(0.3) # RTTVAR = 3/4 0.05 + 1/4 0.2 = 0.0875, SRTT = 7/8 0.1 + 1/8 0.3 = 0.125
    assert_in_delta 0.125, @rtt.srtt
    assert_in_delta 0.125 + 4 * 0.0875, @rtt.rto
  end

  def test_floor_and_cap
    @rtt.sample(0.001)
    assert_in_delta RUDP::RttEstimator::MIN, @rtt.rto
    5.times { @rtt.sample(3.0) }
    assert_in_delta RUDP::RttEstimator::MAX, @rtt.rto
  end

  def test_backoff_doubles_up_to_the_cap_and_reset_ends_it
    @rtt.sample(0.1)
    @rtt.back_off
    assert_in_delta 0.6, @rtt.rto
    @rtt.back_off
    assert_in_delta RUDP::RttEstimator::MAX, @rtt.rto
    @rtt.reset
    assert_in_delta 0.3, @rtt.rto
  end
end
