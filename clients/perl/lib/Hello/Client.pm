package Hello::Client;

# The client: connects, sends "Hello in Perl", prints the reply (HELLO-5..8).

use v5.36;

use Hello ();
use IO::Select ();
use IO::Socket::IP ();
use List::Util qw(max);
use Socket qw(getaddrinfo getnameinfo NI_NUMERICHOST NIx_NOSERV SOCK_STREAM SHUT_WR);

use constant HALF_CLOSE_DELAY => 3; # HELLO-6: seconds to wait for a reply before half-closing

# Runs one exchange with $host:$port; returns the exit status.
sub run ($host, $port) {
    my $reply = eval { exchange($host, $port) };
    unless (defined $reply) {
        print STDERR "hello client: $@"; # HELLO-8: say what went wrong
        return 1;
    }
    binmode STDOUT, ':utf8'; # the reply's text, as UTF-8
    say Hello::text($reply); # HELLO-7: the reply alone on its line
    return 0;
}

# Returns the server's reply or dies saying what went wrong.
sub exchange ($host, $port) {
    my $deadline = Hello::clock() + Hello::TIMEOUT;
    my $socket = connect_to($host, $port, $deadline);
    # HELLO-1, HELLO-3: one line, one write.
    defined syswrite $socket, 'Hello in ' . Hello::LANGUAGE . "\n"
        or die "sending to $host port $port failed: $!\n";
    # HELLO-6: some servers answer only at the end of input. Give the others
    # HALF_CLOSE_DELAY with the connection fully open, then half-close: we can
    # still read, and those servers get their end of input.
    shutdown $socket, SHUT_WR unless IO::Select->new($socket)->can_read(HALF_CLOSE_DELAY);
    my ($reply) = eval { Hello::read_message($socket, $deadline) };
    die "no reply from $host port $port within ${\ Hello::TIMEOUT } s\n" if $@;
    die "$host port $port closed the connection without replying\n" unless defined $reply;
    return $reply;
}

# HELLO-5: resolves $host and tries each of its addresses in turn.
sub connect_to ($host, $port, $deadline) {
    my ($error, @addresses) = getaddrinfo($host, $port, { socktype => SOCK_STREAM });
    die "could not resolve host $host: $error\n" if $error;
    my @errors;
    for my $address (@addresses) {
        my $socket = IO::Socket::IP->new(
            PeerAddrInfo => [$address],
            Timeout      => max($deadline - Hello::clock(), 0.1),
        );
        return $socket if $socket;
        # Refused, unreachable, timed out... IO::Socket::IP leaves it in $@.
        push @errors, sprintf '%s (%s)', $@ =~ s/\s+\z//r, ip_of($address);
    }
    die "could not connect to $host port $port: @{[ join ', ', @errors ]}\n";
}

# The numeric address of one getaddrinfo result.
sub ip_of ($address) {
    my (undef, $ip) = getnameinfo($address->{addr}, NI_NUMERICHOST, NIx_NOSERV);
    return $ip // '?';
}

1;
