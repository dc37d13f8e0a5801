# frozen_string_literal: true

require "io/wait"
require "socket"
require_relative "../rudp"

module RUDP
  # Cuts the input into the packets of one transfer (RUDP-7): start first with
  # the first payload, data after it, end last with the last payload, or empty
  # when the input ends inside start (an empty or one-packet file). Every
  # payload but the last is as large as a datagram allows (RUDP-46).
  #
  # It reads one payload ahead, because end must carry the last payload: a
  # packet's type is known only once we know whether more input follows. Only
  # that one payload is kept, so any input size works.
  class Packetizer
    def initialize(input, first_seqno)
      @input = input
      @first = @seqno = first_seqno
      @data = read(RUDP.max_payload("start", first_seqno)) # the next packet's payload
    end

    # The next packet as [seqno, datagram, last?], or nil after end.
    def next_packet
      return if @data.nil?

      seqno = @seqno
      data = @data
      @seqno += 1
      following = read(RUDP.max_payload("data", @seqno))
      type = if seqno == @first then "start"
             elsif following.empty? then "end"
             else "data"
             end
      @data = type == "end" ? nil : following
      [seqno, RUDP.encode(type, seqno, data), type == "end"]
    end

    private

    # IO#read(n) waits for n bytes or the end of input (a pipe gives short reads).
    def read(size) = @input.read(size) || "".b
  end

  # The retransmission timeout (RTO) from measured round-trip times, as RFC
  # 6298 says (RUDP-41), with the limits spec/rudp.md recommends.
  class RttEstimator
    INITIAL = 0.5 # seconds: the course's 500 ms, until the first sample
    MIN = 0.2     # Linux's floor: below it, scheduling hiccups fire the timer
    MAX = 1.0     # the backoff cap, far below the receiver's 10 s idle timeout (RUDP-44)

    attr_reader :srtt, :rto

    def initialize
      @srtt = nil # smoothed RTT; nil until the first sample
      @rttvar = 0.0
      @rto = INITIAL
    end

    # RFC 6298 (2.2) for the first sample, (2.3) after it.
    def sample(rtt)
      if @srtt.nil?
        @srtt = rtt
        @rttvar = rtt / 2
      else
        @rttvar = 0.75 * @rttvar + 0.25 * (@srtt - rtt).abs
        @srtt = 0.875 * @srtt + 0.125 * rtt
      end
      reset
    end

    # The timeout without backoff, SRTT + 4 RTTVAR within [MIN, MAX]. Also
    # called on ack progress: a path that delivers again ends any backoff,
    # also when Karn's rule gave no sample (as the reference and Linux do).
    def reset
      @rto = @srtt ? (@srtt + [4 * @rttvar, 0.001].max).clamp(MIN, MAX) : INITIAL
    end

    # RFC 6298 (5.5): double the timeout after an expiry, up to MAX.
    def back_off
      @rto = [@rto * 2, MAX].min
    end
  end

  # Sends one input reliably to a receiver over a connected UDP socket.
  #
  # One thread and one loop: send while the window allows, wait for an ack
  # or a timer, react. The design follows the reference sender, described in
  # spec/rudp.md ("How the reference sender works"), in a smaller form.
  class Sender
    DUP_THRESHOLD = 3 # RUDP-42: fast retransmit on the 3rd duplicate ack
    GIVE_UP = 60.0    # RUDP-44: seconds without ack progress before giving up

    class GiveUp < StandardError; end

    # A packet sent and not yet cumulatively acked.
    Slot = Struct.new(:seqno, :datagram, :sent_at, :sends, :sacked)

    def initialize(socket, input, first_seqno:, sack: false, give_up: GIVE_UP, log: nil)
      @socket = socket
      @packets = Packetizer.new(input, first_seqno)
      @first = @cum = @next_seqno = first_seqno # @cum: the last cumulative ack
      @sack = sack
      @give_up = give_up
      @log = log # a lambda taking a line of debug output, or nil
      @rtt = RttEstimator.new
      @window = []        # Slots of seqnos @cum ... @next_seqno (RUDP-40)
      @end_sent = false
      @done = false       # end is acked
      @dupacks = 0
      @sack_evidence = false # the last ack was a sack (a plain-ack receiver sends none)
      @heard = false      # an ack arrived since the last timeout
      @timer = nil        # when the retransmission timer fires, or nil when off
      @check_at = nil     # when a suspected loss becomes overdue, or nil
      @last_progress = RUDP.clock
      @last_error = nil
    end

    # Sends everything and returns once end is acked (RUDP-45); raises GiveUp
    # after give_up seconds without progress of the cumulative ack (RUDP-44).
    def run
      until @done
        send_new while may_send?
        wake = [@timer, @check_at].compact.min
        receive_acks if @socket.wait_readable(wake && [wake - RUDP.clock, 0].max)
        now = RUDP.clock
        on_timeout(now) if @timer && now >= @timer
        detect_losses(now) if @check_at && now >= @check_at
      end
    end

    private

    # Debug output (-d): the block builds the line only when it is wanted.
    def log = @log&.call(yield)

    # RUDP-40: a new packet only while fewer than WINDOW are in flight, so
    # every seqno sent is below @cum + WINDOW. And nothing after start until
    # start is acked: a receiver drops whatever arrives before start (RUDP-11),
    # so a lost start would take the rest of the window with it.
    def may_send?
      !@end_sent && @window.size < WINDOW && (@next_seqno == @first || @cum > @first)
    end

    def send_new
      seqno, datagram, last = @packets.next_packet
      @end_sent = last
      @next_seqno = seqno + 1
      slot = Slot.new(seqno, datagram, nil, 0, false)
      @window << slot
      transmit(slot, "new")
    end

    def transmit(slot, why)
      log { "send #{slot.seqno} (#{why}, #{slot.datagram.bytesize} bytes, rto #{(@rtt.rto * 1000).round} ms)" }
      @socket.send(slot.datagram, 0)
    rescue SystemCallError => e # lost like any datagram: the timer retries
      @last_error = e.message
      log { "send #{slot.seqno} failed: #{e.message}" }
    ensure
      slot.sends += 1
      slot.sent_at = RUDP.clock
      @timer ||= slot.sent_at + @rtt.rto # RFC 6298 (5.1): start the timer if off
    end

    def retransmit(slot, why)
      transmit(slot, why)
      # The repaired head gets a full timeout of its own.
      @timer = slot.sent_at + @rtt.rto if slot.equal?(@window.first)
    end

    # Reads every datagram waiting on the socket.
    def receive_acks
      until @done
        datagram = @socket.recv_nonblock(2048, exception: false)
        return if datagram == :wait_readable

        on_datagram(datagram)
      end
    rescue SystemCallError => e # ICMP port unreachable: no receiver (yet)
      @last_error = e.message
      log { "receive failed: #{e.message}" }
    end

    def on_datagram(datagram)
      ack = RUDP.parse(datagram)
      ack.ack? ? on_ack(ack) : log { "dropped a #{ack.type} packet" }
    rescue Malformed => e # RUDP-6: a corrupted ack is dropped, never acted on
      log { "dropped ack: #{e.message}" }
    end

    # An ack or sack carries the next seqno the receiver expects.
    def on_ack(ack)
      @heard = true
      if ack.seqno < @cum || ack.seqno > @next_seqno # stale (reordered) or bogus
        return log { "ignored ack #{ack.seqno} (window #{@cum}...#{@next_seqno})" }
      end

      if ack.seqno > @cum
        advance(ack.seqno)
        return if @done
      elsif !@window.empty?
        @dupacks += 1
      end
      # With -k, sacks show which packets after a hole arrived (RUDP-32). A
      # receiver without SACK answers with plain acks: then judge by those.
      @sack_evidence = @sack && ack.type == "sack"
      ack.sacks.each { |seqno| slot_for(seqno)&.sacked = true } if @sack_evidence
      detect_losses(RUDP.clock)
    end

    # The cumulative ack moved from @cum to +cum+: those packets arrived and
    # are forgotten, so they are never sent again (RUDP-43).
    def advance(cum)
      now = RUDP.clock
      acked = @window.shift(cum - @cum)
      @cum = cum
      @done = @end_sent && cum == @next_seqno # RUDP-45: end is acked
      # Karn's rule: only packets sent once give an unambiguous RTT. The oldest
      # one newly acked errs on the long side, the safe side for a timeout.
      acked.all? { |slot| slot.sends == 1 } ? @rtt.sample(now - acked.first.sent_at) : @rtt.reset
      log { "ack #{cum}, rto #{(@rtt.rto * 1000).round} ms" }
      @dupacks = 0
      @last_progress = now
      @timer = @window.empty? ? nil : now + @rtt.rto # RFC 6298 (5.2, 5.3)
    end

    def slot_for(seqno) = seqno >= @cum ? @window[seqno - @cum] : nil

    # Resends the packets the acks show lost, without waiting for the timer,
    # and sets @check_at for those that will count as lost if no ack comes
    # first. A packet is lost when packets sent after it have arrived (the
    # evidence: duplicate acks, or packets sacked above it), and
    # - it was sent once and 3 packets sent after it arrived: the 3rd
    #   duplicate ack (RUDP-42), or 3 sacked above it (RFC 6675);
    # - or it has been out for more than a round trip (RACK, RFC 8985). With a
    #   window of 5, a lost packet often has fewer than 3 followers, and
    #   duplicate acks get lost too; this repairs it in about one RTT.
    # A repair that goes unanswered is probed once more after 2 SRTT (a tail
    # loss probe); after that only the timer resends the packet.
    # Without SACK only the oldest packet can be judged; with SACK every hole.
    def detect_losses(now)
      @check_at = nil
      suspects.each do |slot, evidence|
        next if evidence.zero?

        due = lost_at(slot)
        if (slot.sends == 1 && evidence >= DUP_THRESHOLD) || (due && now >= due)
          retransmit(slot, slot.sends == 1 ? "lost" : "probe")
          due = lost_at(slot)
        end
        @check_at = [@check_at, due].compact.min if due
      end
    end

    # When a packet with evidence against it counts as lost: a round trip and
    # a quarter (at least 2 ms, for reordering) after its first send; a repair
    # 2 round trips after it. nil before the first RTT sample, and once the
    # probe went out.
    def lost_at(slot)
      return if @rtt.srtt.nil? || slot.sends > 2

      srtt = @rtt.srtt
      slot.sent_at + (slot.sends == 1 ? srtt + [srtt / 4, 0.002].max : [2 * srtt, 0.01].max)
    end

    # [slot, evidence] for each packet that may be lost: with sacks every
    # packet not sacked, with the number sacked above it; else the oldest
    # packet, with the duplicate acks.
    def suspects
      return @window.first(1).map { |slot| [slot, @dupacks] } unless @sack_evidence

      above = 0
      @window.reverse_each.with_object([]) do |slot, list|
        slot.sacked ? above += 1 : list << [slot, above]
      end
    end

    # The retransmission timer expired (RUDP-41): the oldest packet has gone
    # unacked for a whole RTO.
    def on_timeout(now)
      if now - @last_progress >= @give_up
        detail = @last_error ? " (last error: #{@last_error})" : ""
        raise GiveUp, "no ack progress for #{@give_up} s#{detail}" if @cum > @first

        raise GiveUp, "start was never acknowledged in #{@give_up} s#{detail}: is a receiver listening there?"
      end
      # RFC 6298 (5.5), but back off only while the path is silent: if acks came
      # since the last expiry, the losses are random, and doubling would only
      # stretch every later wait.
      @heard ? @rtt.reset : @rtt.back_off
      @heard = false
      @dupacks = 0
      # Nothing is known to have arrived for a whole RTO: resend every packet
      # not known to be held (RUDP-32), as TCP does after a timeout. A lone
      # packet goes twice: it needs itself and one ack to get through.
      resend = @window.reject(&:sacked)
      resend *= 2 if resend.size == 1
      resend.each { |slot| transmit(slot, "timeout") }
      @timer = RUDP.clock + @rtt.rto # RFC 6298 (5.6)
    end
  end
end
