# frozen_string_literal: true

require "zlib"

# The RUDP datagram codec shared by the sender and the receiver (spec/rudp.md).
#
# Every datagram is <type>|<seqno>|<data>|<checksum> (RUDP-1); acks are
# ack|<seqno>|<checksum> (RUDP-6) and selective acks
# sack|<cum>;<s1>,<s2>,...|<checksum> (RUDP-30).
#
# Everything here works on binary strings (Encoding::BINARY, what sockets
# return): the data of a transfer may contain "|", NUL or any byte >= 0x80, so
# String#index and friends must count bytes, never characters.
module RUDP
  MAX_DATAGRAM = 1472   # RUDP-2: a 1500-byte Ethernet MTU less 20 (IPv4) and 8 (UDP)
  WINDOW = 5            # RUDP-12 and RUDP-40: the receive window, and packets in flight
  CHECKSUM_DIGITS = 10  # the longest checksum: (2**32 - 1).to_s has 10 digits
  MAX_SEQNO = 2**64 - 1 # RUDP-3: seqnos fit in 64 bits

  SENDER_TYPES = %w[start data end].freeze # RUDP-1
  ACK_TYPES = %w[ack sack].freeze          # RUDP-6, RUDP-30

  # One decoded datagram. For ack and sack, +seqno+ is the next seqno the
  # receiver expects and +sacks+ lists the out-of-order seqnos it holds.
  Packet = Struct.new(:type, :seqno, :data, :sacks, keyword_init: true) do
    def ack? = ACK_TYPES.include?(type)
  end

  # A datagram that does not parse or fails its checksum (RUDP-8). +error+ is
  # its class in spec/vectors/README.md: :too_long, :malformed, :checksum,
  # :type, :seqno or :sack.
  class Malformed < StandardError
    attr_reader :error

    def initialize(error, detail)
      super("#{error}: #{detail}")
      @error = error
    end
  end

  module_function

  # Seconds on a clock that never jumps: for timers and timeouts.
  def clock = Process.clock_gettime(Process::CLOCK_MONOTONIC)

  # The IP address of +addrinfo+ as text; a dual-stack socket sees IPv4 peers
  # as ::ffff:a.b.c.d, which we give in their IPv4 form.
  def ip_of(addrinfo)
    (addrinfo.ipv6_v4mapped? ? addrinfo.ipv6_to_ipv4 : addrinfo).ip_address
  end

  # RUDP-4: the unsigned CRC-32 (IEEE, zlib's) of +head+, every byte of the
  # datagram up to and including the last "|". Ruby's Zlib.crc32 already
  # returns an unsigned Integer, so its decimal text is the checksum field.
  def checksum(head) = Zlib.crc32(head)

  # Appends the checksum to +head+, which ends in "|".
  def seal(head) = head << checksum(head).to_s

  # A start, data or end datagram.
  def encode(type, seqno, data = "")
    seal("#{type}|#{seqno}|".b << data.b << "|")
  end

  # ack|<seqno>| or, when +sacks+ is given (even empty), sack|<seqno>;<s1>,...|
  # plus the checksum (RUDP-6, RUDP-30).
  def encode_ack(seqno, sacks = nil)
    return seal("ack|#{seqno}|".b) if sacks.nil?

    seal("sack|#{seqno};#{sacks.join(",")}|".b)
  end

  # The most data a +type+ datagram numbered +seqno+ can carry and still fit
  # in MAX_DATAGRAM whatever its checksum (RUDP-2, RUDP-46).
  def max_payload(type, seqno)
    MAX_DATAGRAM - (type.bytesize + seqno.to_s.bytesize + 3) - CHECKSUM_DIGITS
  end

  # RUDP-3: 1 to 20 ASCII digits (no sign, no space, no other digits) below
  # 2**64. Integer() would also take "+7", " 7", "0x1" and "1_0".
  def parse_number(field, error = :seqno)
    unless field.match?(/\A[0-9]{1,20}\z/n) && field.to_i <= MAX_SEQNO
      raise Malformed.new(error, "not a decimal seqno: #{field[0, 24].inspect}")
    end

    field.to_i
  end

  # Decodes one datagram into a Packet, or raises Malformed saying why.
  #
  # RUDP-5: the type runs to the first "|", the seqno to the second, the
  # checksum follows the LAST "|", and the data is everything in between, so
  # data may itself contain "|". The checks come in the order of
  # spec/vectors/README.md, so errors are classed as the vectors expect.
  def parse(datagram)
    datagram = datagram.b
    if datagram.bytesize > MAX_DATAGRAM
      raise Malformed.new(:too_long, "#{datagram.bytesize} bytes, over #{MAX_DATAGRAM}")
    end

    last = datagram.rindex("|") or raise Malformed.new(:malformed, "no '|'")
    head = datagram[0..last] # the checksum covers the last "|" too (RUDP-4)
    sum = datagram[(last + 1)..]
    raise Malformed.new(:malformed, "checksum #{sum[0, 24].inspect} is not decimal") unless sum.match?(/\A[0-9]+\z/n)

    first = datagram.index("|")
    raise Malformed.new(:malformed, "only one '|'") if first == last

    type = datagram[0...first]
    fields = datagram[(first + 1)...last] # start/data/end: "<seqno>|<data>"
    raise Malformed.new(:malformed, "no data field") if SENDER_TYPES.include?(type) && !fields.include?("|")
    raise Malformed.new(:malformed, "an ack has no data field") if ACK_TYPES.include?(type) && fields.include?("|")
    # Compared as text: the course's receiver compares strings, so "0123" is not 123.
    raise Malformed.new(:checksum, "checksum mismatch") unless sum == checksum(head).to_s

    case type
    when "ack" then Packet.new(type: type, seqno: parse_number(fields), data: "".b, sacks: [])
    when "sack" then parse_sack(fields)
    when *SENDER_TYPES
      seqno, data = fields.split("|", 2)
      Packet.new(type: type, seqno: parse_number(seqno), data: data, sacks: [])
    else raise Malformed.new(:type, "unknown packet type #{type[0, 24].inspect}")
    end
  end

  # "<cum>;<s1>,<s2>,..." or just "<cum>" (RUDP-30).
  def parse_sack(fields)
    cum, list = fields.split(";", 2)
    cum = parse_number(cum.to_s)
    # split(",", -1) keeps empty elements, so "6,,8" and "6," are caught.
    sacks = list.nil? || list.empty? ? [] : list.split(",", -1).map { |s| parse_number(s, :sack) }
    Packet.new(type: "sack", seqno: cum, data: "".b, sacks: sacks)
  end
end
