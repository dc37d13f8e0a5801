# The datagram codec (lib/RUDP.pm): the spec's worked examples and binary data.
use v5.36;
use Test::More;
use RUDP ();

# RUDP-4: CRC-32's check value, and the worked example.
is RUDP::checksum('123456789'), 3421780262, 'CRC-32 check value';
is RUDP::checksum('start|0|hello|'), 1374653333, 'checksum of the worked example';
is RUDP::encode('start', 0, 'hello'), 'start|0|hello|1374653333', 'start datagram';

# Above 2**31: a signed 32-bit checksum would print as -2099598510.
is RUDP::encode_ack(1), 'ack|1|2195368786', 'the checksum is unsigned';

# RUDP-5: the worked example; data keeps its "|".
my $packet = RUDP::parse('data|7|a|b|3661478912');
is_deeply [ @$packet{qw(type seqno data)} ], [ 'data', 7, 'a|b' ], 'data containing a pipe';

my $binary = join('', map { chr } 0 .. 255) x 4 . '|end|1||';
is RUDP::parse(RUDP::encode('data', 42, $binary))->{data}, $binary, 'binary data round-trips';

is RUDP::encode_ack(3, [ 5, 6 ]), 'sack|3;5,6|2211952226', 'sack encoding';
is_deeply RUDP::parse('sack|3;5,6|2211952226')->{sacks}, [ 5, 6 ], 'sack list';

my (undef, $error) = RUDP::parse('start|0|hellp|1374653333');
is $error, 'checksum', 'a corrupted datagram is rejected';

# RUDP-3: seqnos up to 2**64 - 1 are exact, and one more is refused.
is RUDP::parse_number('18446744073709551615') . '', '18446744073709551615', 'largest seqno is exact';
is RUDP::parse_number('18446744073709551616'), undef, '2**64 is refused';
is RUDP::parse_number('00000000000000000009'), 9, 'leading zeros';
is RUDP::parse_number("7\n"), undef, 'no trailing newline';

# RUDP-2, RUDP-46: a full packet is at most 1472 bytes, whatever its seqno
# and checksum, and no more than a few bytes short of it.
for my $seqno (0, 9, 10, 123456, '18446744073709551614') {
    for my $type (qw(start data end)) {
        my $size = length RUDP::encode($type, $seqno, 'x' x RUDP::max_payload($type, $seqno));
        ok $size <= RUDP::MAX_DATAGRAM && $size >= RUDP::MAX_DATAGRAM - 9, "full $type $seqno: $size bytes";
    }
}

done_testing;
