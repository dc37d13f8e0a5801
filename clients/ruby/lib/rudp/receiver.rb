# frozen_string_literal: true

require "io/wait"
require "socket"
require_relative "../rudp"

module RUDP
  # One file arriving from one source address (RUDP-10).
  class Transfer
    attr_reader :name, :start, :expected, :last_heard

    # +name+ is the output path, built by the caller from the source address
    # only, never from packet content (RUDP-16).
    def initialize(name, start, now)
      @name = name
      @start = start       # to tell a retransmitted start from a new one (RUDP-18)
      @expected = start.seqno # next-expected: the next seqno to write
      @buffered = {}       # seqno => Packet, out of order but inside the window
      @file = File.open(partial_name, "wb") # RUDP-15: incomplete until renamed
      @complete = false
      @last_heard = now
    end

    def complete? = @complete

    # Takes one valid packet of this transfer and writes what is now in order.
    def accept(packet, now)
      @last_heard = now # RUDP-15: any valid packet counts as activity
      return if @complete || @file.nil?
      # RUDP-12: buffer only next-expected .. next-expected+4, each seqno once.
      return unless packet.seqno >= @expected && packet.seqno < @expected + WINDOW

      @buffered[packet.seqno] ||= packet
      while (packet = @buffered.delete(@expected)) # RUDP-14: write in order
        @file.write(packet.data)
        @expected += 1
        break finish if packet.type == "end"
      end
    end

    # RUDP-13: the cumulative ack, carrying next-expected; with SACK the
    # buffered out-of-order seqnos too, ascending (RUDP-30, RUDP-31).
    def ack(sack) = RUDP.encode_ack(@expected, sack ? @buffered.keys.sort : nil)

    # RUDP-15: drops an unfinished transfer, leaving its .partial file.
    def abandon
      @file&.close
      @file = nil
    end

    private

    def partial_name = "#{@name}.partial"

    # RUDP-14: the file is written, closed and renamed before end is acked.
    def finish
      @file.close
      @file = nil
      File.rename(partial_name, @name)
      @buffered.clear
      @complete = true
    end
  end

  # The receiver's logic, apart from the socket so that tests can drive it
  # with a fake clock: one datagram in, at most one ack out.
  class Receiver
    DEFAULT_PORT = 33_122 # RUDP-61
    SWEEP_INTERVAL = 0.5  # seconds between looks for idle transfers (RUDP-15)

    def initialize(dir: ".", timeout: 10.0, sack: false, log: nil)
      @dir = dir
      @timeout = timeout
      @sack = sack
      @log = log # a lambda taking a line of debug output, or nil
      @transfers = {} # "ip.port" => Transfer (RUDP-10)
    end

    # Handles one datagram from +ip+:+port+ at time +now+ (seconds) and
    # returns the ack to send back, or nil when nothing may be sent.
    def handle(datagram, ip, port, now)
      key = self.class.file_name(ip, port)
      packet = RUDP.parse(datagram)
      # RUDP-6: a receiver ignores acks (RUDP-8: and, below, all invalid datagrams).
      return drop(key, "an unexpected #{packet.type}") if packet.ack?

      transfer = @transfers[key]
      if packet.type == "start" && !retransmitted_start?(transfer, packet)
        transfer = begin_transfer(key, packet, now)
      end
      # RUDP-11: a transfer begins with start; nothing else opens one.
      return drop(key, "#{packet.type} #{packet.seqno}: no transfer") unless transfer

      transfer.accept(packet, now) # RUDP-17: a completed transfer still acks
      log { "#{key}: #{packet.type} #{packet.seqno}, next expected #{transfer.expected}" }
      transfer.ack(@sack)
    rescue Malformed => e
      drop(key, e.message) # RUDP-8: silently, never acked
    rescue SystemCallError => e # the directory is not writable, the disk is full...
      warn "receiver: #{key}: #{e.message}: transfer dropped"
      @transfers.delete(key)&.abandon
      nil
    end

    # RUDP-15: forgets the transfers idle for the timeout, complete or not.
    def expire(now)
      @transfers.delete_if do |key, transfer|
        next false if now - transfer.last_heard < @timeout

        log { "#{key}: idle for #{@timeout} s, dropped" } unless transfer.complete?
        transfer.abandon
        true
      end
    end

    # Serves +socket+ until the process is stopped: one thread and one socket
    # for every sender at once.
    def run(socket)
      loop do
        serve_one(socket) if socket.wait_readable(SWEEP_INTERVAL)
        expire(RUDP.clock)
      end
    end

    # Closes the files of unfinished transfers; their .partial files stay.
    def close = @transfers.each_value(&:abandon)

    # <ip>.<port>, as the course's receiver names its files (RUDP-16), with
    # the ":" of IPv6 addresses replaced (2001_db8__1.6000), as the reference.
    def self.file_name(ip, port) = "#{ip}.#{port}".tr(":", "_")

    # A UDP socket bound to +port+ on all addresses (RUDP-61): IPv6 and IPv4
    # together where the host allows, else IPv4 only.
    def self.bind(port)
      socket = Socket.new(:INET6, :DGRAM)
      socket.setsockopt(:IPV6, :V6ONLY, false)
      socket.bind(Addrinfo.udp("::", port))
      socket
    rescue SystemCallError # no IPv6 in this kernel or container
      socket&.close
      socket = Socket.new(:INET, :DGRAM)
      socket.bind(Addrinfo.udp("0.0.0.0", port))
      socket
    end

    private

    # Debug output (-d): the block builds the line only when it is wanted.
    def log = @log&.call(yield)

    def serve_one(socket)
      # A buffer larger than MAX_DATAGRAM, so that a longer datagram is seen
      # whole, and dropped, rather than cut and taken for a valid one (RUDP-2).
      datagram, from = socket.recvfrom(65_536)
      ack = handle(datagram, RUDP.ip_of(from), from.ip_port, RUDP.clock)
      socket.send(ack, 0, from) if ack
    rescue SystemCallError => e # e.g. the sender's host is unreachable right now
      log { "#{from&.inspect_sockaddr}: #{e.message}" }
    end

    def drop(key, why)
      log { "#{key}: dropped #{why}" }
      nil
    end

    # RUDP-18: a start with the current start's seqno and data repeats it;
    # any other start begins a new transfer.
    def retransmitted_start?(transfer, start)
      transfer && transfer.start.seqno == start.seqno && transfer.start.data == start.data
    end

    def begin_transfer(key, start, now)
      @transfers.delete(key)&.abandon
      log { "#{key}: new transfer from seqno #{start.seqno}" }
      @transfers[key] = Transfer.new(File.join(@dir, key), start, now)
    end
  end
end
