package Hello::Server;

# The server: answers every client, concurrently, forever (HELLO-10..14).

use v5.36;

use Hello ();
use IO::Select ();
use IO::Socket::IP ();
use Socket qw(SHUT_WR);

use constant LINGER => 2; # HELLO-12: how long to wait for the client's close after the reply

sub new ($class, %options) {
    return bless { port => $options{port}, challenge => $options{challenge} // 0 }, $class;
}

# HELLO-10: listens on every address, IPv6 and IPv4 on one socket where the
# kernel allows, else IPv4 only. Dies when it cannot listen.
sub listen_socket ($self) {
    my %tcp = (LocalPort => $self->{port}, Listen => 128, ReuseAddr => 1);
    return IO::Socket::IP->new(%tcp, LocalHost => '::', V6Only => 0)
        // IO::Socket::IP->new(%tcp, LocalHost => '0.0.0.0')
        // die "cannot listen on TCP port $self->{port}: $IO::Socket::errstr\n";
}

# Serves until the process is stopped.
sub run ($self) {
    my $server = $self->listen_socket;
    note('listening on TCP port ' . $server->sockport); # the real one, also for 0
    # HELLO-14: a process per connection, so that a silent client blocks
    # nobody. The kernel reaps the finished ones: we never wait for them.
    local $SIG{CHLD} = 'IGNORE';
    while (1) { # HELLO-13: forever
        my $connection = $server->accept;
        unless ($connection) { # e.g. out of file descriptors: try again soon
            note("accept failed: $!");
            select undef, undef, undef, 0.1;
            next;
        }
        my $pid = fork;
        if (!defined $pid) { # the sandbox limits processes
            note("dropped a connection: cannot fork: $!");
        }
        elsif ($pid == 0) {
            close $server;
            $self->serve($connection);
            exit 0;
        }
        close $connection;
    }
}

# One client, in its own process.
sub serve ($self, $connection) {
    my $ip = $connection->peerhost =~ s/\A::ffff:(?=\d+\.\d+\.\d+\.\d+\z)//ir;
    my ($message) = eval { Hello::read_message($connection, Hello::clock() + Hello::TIMEOUT) };
    return note("$ip: no message within ${\ Hello::TIMEOUT } s") if $@;
    return note("$ip: closed without a message") unless defined $message;

    # HELLO-11: printed, and flushed, before the reply; one write, so the
    # lines of concurrent clients never mix. HELLO-21: the client's address
    # first, on its own line.
    my $lines = ($self->{challenge} ? "$ip\n" : '') . Hello::text($message) . "\n";
    utf8::encode($lines);
    defined syswrite STDOUT, $lines or note("cannot print: $!");

    # HELLO-4, HELLO-20
    my $reply = $self->{challenge} ? Hello::challenge_reply($message) : 'Goodbye in ' . Hello::LANGUAGE . "\n";
    defined syswrite $connection, $reply or return note("$ip: reply failed: $!");
    close_gracefully($connection);
}

# HELLO-12: half-close, then read until the client closes (at most LINGER).
# Closing with unread input would make the kernel reset the connection, and
# a reset can destroy the reply before the client has read it.
sub close_gracefully ($connection) {
    shutdown $connection, SHUT_WR;
    my $select = IO::Select->new($connection);
    my $deadline = Hello::clock() + LINGER;
    while ((my $wait = $deadline - Hello::clock()) > 0) {
        last unless $select->can_read($wait) && sysread $connection, my $discard, 4096;
    }
    close $connection;
}

sub note ($message) { print STDERR "hello server: $message\n" }

1;
