package RUDP;

# The RUDP datagram codec shared by the sender and the receiver (spec/rudp.md).
#
# Every datagram is <type>|<seqno>|<data>|<checksum> (RUDP-1); acks are
# ack|<seqno>|<checksum> (RUDP-6) and selective acks
# sack|<cum>;<s1>,<s2>,...|<checksum> (RUDP-30).
#
# Datagrams are byte strings: the data of a transfer may contain "|", NUL or
# any byte >= 0x80, so nothing here ever decodes them as text, and the
# programs set their sockets and files to :raw.
#
# Seqnos go up to 2**64 - 1. A 64-bit perl holds them exactly as unsigned
# integers (UV), as long as we never compute past 2**64 - 1: code that
# compares a seqno with a window writes "$seq - $base < WINDOW", never
# "$seq < $base + WINDOW".

use v5.36;

use Compress::Raw::Zlib ();
use Exporter 'import';
use Time::HiRes ();

our @EXPORT_OK = qw(MAX_DATAGRAM WINDOW);

use constant {
    MAX_DATAGRAM    => 1472, # RUDP-2: a 1500-byte Ethernet MTU less 20 (IPv4) and 8 (UDP)
    WINDOW          => 5,    # RUDP-12 and RUDP-40: the receive window, and packets in flight
    CHECKSUM_DIGITS => 10,   # the longest checksum: 4294967295 has 10 digits
    MAX_SEQNO       => '18446744073709551615', # RUDP-3: 2**64 - 1, as text
};

my %SENDER_TYPE = map { $_ => 1 } qw(start data end); # RUDP-1
my %ACK_TYPE    = map { $_ => 1 } qw(ack sack);       # RUDP-6, RUDP-30

# Seconds on a clock that never jumps: for timers and timeouts.
sub clock () { Time::HiRes::clock_gettime(Time::HiRes::CLOCK_MONOTONIC()) }

# RUDP-4: the unsigned CRC-32 (IEEE, zlib's) of $head, every byte of the
# datagram up to and including the last "|". zlib's crc32 returns it as an
# unsigned number, so its decimal text is the checksum field.
sub checksum ($head) { Compress::Raw::Zlib::crc32($head) }

# Appends the checksum to $head, which ends in "|".
sub seal ($head) { $head . checksum($head) }

# A start, data or end datagram.
sub encode ($type, $seqno, $data = '') { seal("$type|$seqno|$data|") }

# ack|<seqno>| or, when $sacks is given (even empty), sack|<seqno>;<s1>,...|
# plus the checksum (RUDP-6, RUDP-30).
sub encode_ack ($seqno, $sacks = undef) {
    return seal("ack|$seqno|") unless defined $sacks;
    return seal("sack|$seqno;" . join(',', @$sacks) . '|');
}

# The most data a $type datagram numbered $seqno can carry and still fit in
# MAX_DATAGRAM whatever its checksum (RUDP-2, RUDP-46).
sub max_payload ($type, $seqno) {
    return MAX_DATAGRAM - (length($type) + length("$seqno") + 3) - CHECKSUM_DIGITS;
}

# RUDP-3: 1 to 20 ASCII digits (no sign, no space, no other digits) below
# 2**64; leading zeros are allowed. Returns the number, or undef. Perl's own
# numification would take " 7", "+7" and "7x" (as 7), and 2**64 as a float,
# so the text is checked first, and compared with 2**64 - 1 as text.
sub parse_number ($field) {
    return undef unless $field =~ /\A[0-9]{1,20}\z/a;
    (my $digits = $field) =~ s/\A0+(?=.)//;
    return undef if length $digits == 20 && $digits gt MAX_SEQNO;
    return 0 + $digits; # an exact unsigned integer on a 64-bit perl
}

# Decodes one datagram. Returns the packet, a hash reference
#   { type => 'data', seqno => 7, data => "a|b", sacks => [] }
# (for ack and sack, seqno is the next seqno the receiver expects and sacks
# lists the out-of-order seqnos it holds); or, for a datagram to drop
# (RUDP-8), the list (undef, $class, $why), where $class is the error class
# of spec/vectors/README.md: too_long, malformed, checksum, type, seqno or
# sack.
#
# RUDP-5: the type runs to the first "|", the seqno to the second, the
# checksum follows the LAST "|", and the data is everything in between, so
# data may itself contain "|". The checks come in the order of
# spec/vectors/README.md, so errors are classed as the vectors expect.
sub parse ($datagram) {
    my $size = length $datagram;
    return (undef, too_long => "$size bytes, over " . MAX_DATAGRAM) if $size > MAX_DATAGRAM;

    my $last = rindex $datagram, '|';
    return (undef, malformed => "no '|'") if $last < 0;
    my $head = substr $datagram, 0, $last + 1; # the checksum covers the last "|" too (RUDP-4)
    my $sum  = substr $datagram, $last + 1;
    return (undef, malformed => 'the checksum is not decimal') unless $sum =~ /\A[0-9]+\z/a;

    my $first = index $datagram, '|';
    return (undef, malformed => "only one '|'") if $first == $last;

    my $type   = substr $datagram, 0, $first;
    my $fields = substr $datagram, $first + 1, $last - $first - 1; # start/data/end: "<seqno>|<data>"
    my $pipe   = index($fields, '|') >= 0;
    return (undef, malformed => 'no data field') if $SENDER_TYPE{$type} && !$pipe;
    return (undef, malformed => 'an ack has a data field') if $ACK_TYPE{$type} && $pipe;
    # Compared as text: the course's receiver compares strings, so "0123" is not 123.
    return (undef, checksum => 'checksum mismatch') unless $sum eq checksum($head);

    if ($type eq 'ack') {
        my $seqno = parse_number($fields) // return (undef, seqno => 'bad seqno');
        return { type => 'ack', seqno => $seqno, data => '', sacks => [] };
    }
    return parse_sack($fields) if $type eq 'sack';
    return (undef, type => 'unknown packet type') unless $SENDER_TYPE{$type};

    my ($seqno_field, $data) = split /\|/, $fields, 2;
    my $seqno = parse_number($seqno_field) // return (undef, seqno => 'bad seqno');
    return { type => $type, seqno => $seqno, data => $data, sacks => [] };
}

# "<cum>;<s1>,<s2>,..." or just "<cum>" (RUDP-30).
sub parse_sack ($fields) {
    my ($cum_field, $list) = split /;/, $fields, 2;
    my $cum = parse_number($cum_field // '') // return (undef, seqno => 'bad cumulative seqno');
    my @sacks;
    # split with limit -1 keeps empty elements, so "6,,8" and "6," are caught.
    for my $field (length($list // '') ? split(/,/, $list, -1) : ()) {
        push @sacks, parse_number($field) // return (undef, sack => 'bad sack list');
    }
    return { type => 'sack', seqno => $cum, data => '', sacks => \@sacks };
}

1;
