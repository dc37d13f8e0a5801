package LossyRelay;

# A UDP relay for the end-to-end tests: it listens on a loopback port,
# forwards what a sender sends there to a receiver, and the receiver's
# answers back, losing, duplicating, delaying (so reordering) and corrupting
# datagrams at random in both directions, and dropping everything during a
# blackout. It runs in a child process until stopped.

use v5.36;

use IO::Select ();
use IO::Socket::IP ();
use List::Util qw(min);
use Time::HiRes qw(time);

# to: the receiver's port; loss, duplicate, corrupt, reorder: probabilities;
# blackout: [from, to] in seconds after the relay started.
sub start ($class, %options) {
    my $socket = IO::Socket::IP->new(LocalHost => '127.0.0.1', LocalPort => 0, Proto => 'udp')
        or die "relay: $IO::Socket::errstr";
    my $upstream = IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => $options{to}, Proto => 'udp')
        or die "relay: $IO::Socket::errstr";
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        srand($options{seed} // 1);
        relay($socket, $upstream, \%options);
        exit 0;
    }
    return bless { pid => $pid, port => $socket->sockport }, $class;
}

sub port ($self) { $self->{port} }

sub stop ($self) {
    kill 'TERM', $self->{pid};
    waitpid $self->{pid}, 0;
}

sub relay ($socket, $upstream, $options) {
    my $started = time;
    my $select = IO::Select->new($socket, $upstream);
    my ($sender, @delayed); # @delayed: [due, socket, datagram, address]
    while (1) {
        my $wait = @delayed ? min(map { $_->[0] } @delayed) - time : 0.1;
        for my $ready ($select->can_read($wait > 0 ? $wait : 0)) {
            my $from = $ready->recv(my $datagram, 65536) // next;
            my ($out, $to) = $ready == $socket ? ($upstream, undef) : ($socket, $sender);
            $sender = $from if $ready == $socket;
            next unless $out == $upstream || $sender;

            my $now = time - $started;
            my $blackout = $options->{blackout};
            next if $blackout && $now >= $blackout->[0] && $now < $blackout->[1];
            next if rand() < ($options->{loss} // 0);
            if (rand() < ($options->{corrupt} // 0)) {
                substr($datagram, int rand length $datagram, 1) ^.= chr(1 + int rand 255); # string xor (feature bitwise)
            }
            my $copies = rand() < ($options->{duplicate} // 0) ? 2 : 1;
            for (1 .. $copies) {
                my $delay = rand() < ($options->{reorder} // 0) ? rand 0.03 : 0;
                push @delayed, [ time + $delay, $out, $datagram, $to ];
            }
        }
        my $now = time;
        for my $item (grep { $_->[0] <= $now } @delayed) {
            my (undef, $out, $datagram, $to) = @$item;
            defined $to ? $out->send($datagram, 0, $to) : $out->send($datagram);
        }
        @delayed = grep { $_->[0] > $now } @delayed;
    }
}

1;
