# How the sender cuts its input into packets (RUDP-7, RUDP-46), and the RTO
# arithmetic (RUDP-41).
use v5.36;
use Test::More;
use RUDP ();
use RUDP::Sender ();

# All packets of $input as [type, seqno, data], checking each datagram.
sub packets ($input, $first_seqno = 7) {
    open my $fh, '<:raw', \$input or die;
    my $packetizer = RUDP::Packetizer->new($fh, $first_seqno);
    my @list;
    while (my ($seqno, $datagram, $last) = $packetizer->next_packet) {
        die 'more packets than the input needs' if @list > length($input) / 1000 + 2;
        my $packet = RUDP::parse($datagram) or die "unparsable datagram $seqno";
        die "seqno $seqno" unless $packet->{seqno} == $seqno;
        die "end flag of $seqno" unless !!$last == ($packet->{type} eq 'end');
        die "datagram $seqno too long" if length $datagram > RUDP::MAX_DATAGRAM;
        push @list, [ @$packet{qw(type seqno data)} ];
    }
    return \@list;
}

sub random_bytes ($size) { join '', map { chr int rand 256 } 1 .. $size }

# spec/rudp.md, RUDP-7: the table of how a file is split.
is_deeply packets(''), [ [ 'start', 7, '' ], [ 'end', 8, '' ] ], 'empty file: an empty start and an empty end';
is_deeply packets('x'), [ [ 'start', 7, 'x' ], [ 'end', 8, '' ] ], 'one byte travels in start';

my $full = 's' x RUDP::max_payload('start', 7);
is_deeply packets($full), [ [ 'start', 7, $full ], [ 'end', 8, '' ] ], 'exactly one full start';

{
    my ($start_size, $data_size) = (RUDP::max_payload('start', 7), RUDP::max_payload('data', 8));
    my $input = random_bytes($start_size + 2 * $data_size + 100);
    my $list = packets($input);
    is_deeply [ map { $_->[0] } @$list ], [qw(start data data end)], 'larger file: types';
    is_deeply [ map { $_->[1] } @$list ], [ 7 .. 10 ], 'larger file: consecutive seqnos';
    is_deeply [ map { length $_->[2] } @$list ], [ $start_size, $data_size, $data_size, 100 ],
        'larger file: full packets, end with the last piece';
    is join('', map { $_->[2] } @$list), $input, 'larger file: the data';
}

{
    my $input = 'a' x (RUDP::max_payload('start', 7) + RUDP::max_payload('data', 8));
    my $list = packets($input);
    is_deeply [ map { $_->[0] } @$list ], [qw(start end)], 'input ending on a packet boundary';
    is join('', map { $_->[2] } @$list), $input, 'input ending on a packet boundary: the data';
}

# RUDP-46: full datagrams, also where the seqno gains a digit.
{
    my $input = random_bytes(30_000);
    open my $fh, '<:raw', \$input or die;
    my $packetizer = RUDP::Packetizer->new($fh, 995);
    my @sizes;
    while (my (undef, $datagram) = $packetizer->next_packet) {
        push @sizes, length $datagram;
        die 'more packets than the input needs' if @sizes > 30;
    }
    pop @sizes;
    is scalar(grep { $_ < RUDP::MAX_DATAGRAM - 9 || $_ > RUDP::MAX_DATAGRAM } @sizes), 0,
        "datagrams are full across seqno digits: @sizes";
}

# A pipe gives short reads: the packetizer still fills every packet.
{
    pipe my $reader, my $writer or die "pipe: $!";
    binmode $_, ':raw' for $reader, $writer;
    my $input = random_bytes(5000);
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        close $reader;
        $writer->autoflush(1);
        print $writer substr($input, $_ * 100, 100) and select undef, undef, undef, 0.001 for 0 .. 49;
        exit 0;
    }
    close $writer;
    my $packetizer = RUDP::Packetizer->new($reader, 0);
    my @data;
    while (my (undef, $datagram) = $packetizer->next_packet) { push @data, RUDP::parse($datagram)->{data} }
    waitpid $pid, 0;
    is join('', @data), $input, 'a pipe: the whole input';
    is length $data[0], RUDP::max_payload('start', 0), 'a pipe: start is full';
}

# RUDP-41: the RTO.
my $rtt = RUDP::RttEstimator->new;
cmp_ok abs($rtt->rto - 0.5), '<', 1e-9, 'starts at 500 ms';
$rtt->reset;
cmp_ok abs($rtt->rto - 0.5), '<', 1e-9, 'still 500 ms without a sample';
$rtt->sample(0.1); # SRTT = 0.1, RTTVAR = 0.05: RTO = 0.1 + 4 * 0.05
cmp_ok abs($rtt->rto - 0.3), '<', 1e-9, 'first sample (RFC 6298 2.2)';
$rtt->sample(0.3); # RTTVAR = 3/4 0.05 + 1/4 0.2 = 0.0875, SRTT = 7/8 0.1 + 1/8 0.3 = 0.125
cmp_ok abs($rtt->srtt - 0.125), '<', 1e-9, 'later samples smooth SRTT (RFC 6298 2.3)';
cmp_ok abs($rtt->rto - (0.125 + 4 * 0.0875)), '<', 1e-9, 'and RTTVAR';

$rtt = RUDP::RttEstimator->new;
$rtt->sample(0.001);
cmp_ok abs($rtt->rto - RUDP::RttEstimator::MIN), '<', 1e-9, 'floor of 200 ms';
$rtt->sample(3) for 1 .. 5;
cmp_ok abs($rtt->rto - RUDP::RttEstimator::MAX), '<', 1e-9, 'cap of 1 s';

$rtt = RUDP::RttEstimator->new;
$rtt->sample(0.1);
$rtt->back_off;
cmp_ok abs($rtt->rto - 0.6), '<', 1e-9, 'backoff doubles';
$rtt->back_off;
cmp_ok abs($rtt->rto - RUDP::RttEstimator::MAX), '<', 1e-9, 'up to the cap';
$rtt->reset;
cmp_ok abs($rtt->rto - 0.3), '<', 1e-9, 'progress ends the backoff';

done_testing;
