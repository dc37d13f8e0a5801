# frozen_string_literal: true

require "socket"

# A UDP relay for the end-to-end tests, between a sender and a receiver on
# loopback: it loses, duplicates, reorders and corrupts datagrams in both
# directions at the given rates, from a seeded random generator, and can go
# dead for a while (a blackout). A small stand-in for the suite's netsim.
class LossyRelay
  attr_reader :port

  def initialize(upstream_port, seed: 1, loss: 0.0, duplicate: 0.0, reorder: 0.0, corrupt: 0.0,
                 blackout: nil)
    @upstream = Addrinfo.udp("127.0.0.1", upstream_port)
    @random = Random.new(seed)
    @rates = { loss: loss, duplicate: duplicate, reorder: reorder, corrupt: corrupt }
    @blackout = blackout # [after this many datagrams from the sender, for this many seconds]
    @socket = Socket.new(:INET, :DGRAM)
    @socket.bind(Addrinfo.udp("127.0.0.1", 0))
    @port = @socket.local_address.ip_port
    @held = {}        # a datagram held back per direction, to reorder
    @from_sender = 0
    @dead_until = nil
    @thread = Thread.new { run }
  end

  def close
    @thread.kill.join
    @socket.close
  end

  private

  def run
    loop do
      datagram, from = @socket.recvfrom(65_536)
      to_receiver = from.ip_port != @upstream.ip_port
      @sender = from if to_receiver
      next unless @sender

      forward(datagram, to_receiver ? @upstream : @sender)
    end
  end

  def forward(datagram, to)
    return if dead?(to == @upstream)
    return if chance(:loss)

    datagram = flip_a_bit(datagram) if chance(:corrupt)
    if chance(:reorder) && !@held[to]
      @held[to] = datagram # goes out after the next one
      return
    end
    copies = chance(:duplicate) ? 2 : 1
    copies.times { @socket.send(datagram, 0, to) }
    held = @held.delete(to)
    @socket.send(held, 0, to) if held
  end

  def dead?(from_sender)
    return false unless @blackout

    @from_sender += 1 if from_sender
    after, seconds = @blackout
    @dead_until ||= Process.clock_gettime(Process::CLOCK_MONOTONIC) + seconds if @from_sender >= after
    @dead_until && Process.clock_gettime(Process::CLOCK_MONOTONIC) < @dead_until
  end

  def chance(what) = @random.rand < @rates[what]

  def flip_a_bit(datagram)
    datagram = datagram.dup
    i = @random.rand(datagram.bytesize)
    datagram.setbyte(i, datagram.getbyte(i) ^ (1 << @random.rand(8)))
    datagram
  end
end
