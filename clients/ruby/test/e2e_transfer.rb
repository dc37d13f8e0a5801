# frozen_string_literal: true

require_relative "test_helper"
require_relative "lossy_relay"
require "stringio"
require "tmpdir"
require "rudp/receiver"
require "rudp/sender"

# The sender and the receiver, in threads of this process, over loopback
# through a LossyRelay.
class TransferTest < Minitest::Test
  def setup
    @dir = Dir.mktmpdir
    @receive_socket = RUDP::Receiver.bind(0)
  end

  def teardown
    @receiver_thread&.kill&.join
    @receiver&.close
    @receive_socket.close
    @relay&.close
    FileUtils.rm_rf(@dir)
  end

  def test_sizes_on_a_clean_path
    [0, 1, RUDP.max_payload("start", 1), 64 * 1024].each do |size|
      assert_transfers Random.new(size).bytes(size)
    end
  end

  def test_lossy_path
    assert_transfers Random.new(3).bytes(200_000),
                     loss: 0.2, duplicate: 0.1, reorder: 0.1, corrupt: 0.05
  end

  def test_lossy_path_with_sack
    assert_transfers Random.new(4).bytes(200_000), sack: true,
                                                   loss: 0.2, duplicate: 0.1, reorder: 0.1, corrupt: 0.05
  end

  def test_half_of_everything_lost
    assert_transfers Random.new(5).bytes(50_000), loss: 0.5
  end

  # RUDP-44: 3 s of 100 % loss both ways, from the sender's 20th datagram.
  def test_blackout
    assert_transfers Random.new(6).bytes(100_000), blackout: [20, 3.0]
  end

  # RUDP-44: no receiver at all: give up, after the configured time.
  def test_gives_up_without_receiver
    @relay = LossyRelay.new(@receive_socket.local_address.ip_port, loss: 1.0)
    started = RUDP.clock
    error = assert_raises(RUDP::Sender::GiveUp) { send_file("x" * 5000, give_up: 1.5) }
    assert_match(/start was never acknowledged/, error.message)
    assert_in_delta 2.0, RUDP.clock - started, 1.0
  end

  private

  def assert_transfers(input, sack: false, **impairments)
    @receiver ||= RUDP::Receiver.new(dir: @dir, sack: sack)
    @receiver_thread ||= Thread.new { @receiver.run(@receive_socket) }
    @relay&.close
    @relay = LossyRelay.new(@receive_socket.local_address.ip_port, seed: input.bytesize, **impairments)
    send_file(input, sack: sack)
    # The receiver sees the relay as the sender.
    name = RUDP::Receiver.file_name("127.0.0.1", @relay.port)
    output = File.join(@dir, name)
    assert File.exist?(output), "no #{name} in #{Dir.children(@dir)}"
    assert input == File.binread(output), "#{name} differs from the input (#{input.bytesize} bytes)"
  end

  # Sends +input+ through the relay.
  def send_file(input, sack: false, give_up: 20)
    socket = Socket.new(:INET, :DGRAM)
    socket.connect(Addrinfo.udp("127.0.0.1", @relay.port))
    RUDP::Sender.new(socket, StringIO.new(input), first_seqno: rand(1000), sack: sack, give_up: give_up).run
  ensure
    socket.close
  end
end
