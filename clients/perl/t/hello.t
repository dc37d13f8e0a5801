# The Hello message rules: challenge replies (HELLO-20), trimming (HELLO-15)
# and the lenient message reader (HELLO-2) on a socket pair.
use v5.36;
use utf8;
use Test::More;
use Encode ();
use Socket qw(AF_UNIX SOCK_STREAM PF_UNSPEC SHUT_WR);
use Hello ();

# spec/hello.md, HELLO-20: the examples.
my %replies = (
    'Hello in Rust'         => "Goodbye Rust from Perl\n",
    'Hello in Objective  C' => "Goodbye Objective C from Perl\n",
    'hello in rust'         => "Goodbye rust from Perl\n",
    "HELLO IN Go\r"         => "Goodbye Go from Perl\n",
    'Hi from Ruby'          => "Goodbye Hi from Ruby from Perl\n",
    'Hello in'              => "Goodbye Hello in from Perl\n",
    " \t\0"                 => "Goodbye from Perl\n",
    "\0Hello in C\0\0\0"    => "Goodbye C from Perl\n",
    "Hello in Caf\xC3\xA9"  => "Goodbye Caf\xC3\xA9 from Perl\n", # UTF-8 bytes in, UTF-8 bytes out
);
is Hello::challenge_reply($_), $replies{$_}, "challenge reply to '$_'" for sort keys %replies;

# HELLO-15: whitespace and NUL bytes around a message are not part of it.
is Hello::text("\0 Hello in Go \r\0"), 'Hello in Go', 'trims whitespace and NUL';
is Hello::text("Hello in Caf\xC3\xA9\r"), 'Hello in Café', 'decodes UTF-8';

# A connected pair of sockets: what the peer sent is there to read.
sub exchange ($sent, %options) {
    socketpair my $peer, my $us, AF_UNIX, SOCK_STREAM, PF_UNSPEC or die "socketpair: $!";
    syswrite $peer, $sent;
    shutdown $peer, SHUT_WR if $options{close};
    return ($us, $peer);
}

{
    my ($us) = exchange("Hello in Go\nmore");
    is scalar Hello::read_message($us, Hello::clock() + 5), 'Hello in Go', 'a message ends at a newline';
}
{
    my ($us) = exchange('Hello in Go', close => 1);
    is scalar Hello::read_message($us, Hello::clock() + 5), 'Hello in Go', 'a message ends at the close';
}
# HELLO-2: no newline and no close: the idle gap ends the message.
{
    my ($us, $peer) = exchange('Hello in Go');
    my $started = Hello::clock();
    is scalar Hello::read_message($us, $started + 5), 'Hello in Go', 'a message ends after an idle gap';
    cmp_ok Hello::clock() - $started, '>=', Hello::IDLE_GAP * 0.9, 'not before the idle gap';
}
# A message split into many pieces is read whole (never one read).
{
    socketpair my $peer, my $us, AF_UNIX, SOCK_STREAM, PF_UNSPEC or die "socketpair: $!";
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        syswrite $peer, $_ and select undef, undef, undef, 0.02 for split //, "Hello in Go\n";
        exit 0;
    }
    is scalar Hello::read_message($us, Hello::clock() + 5), 'Hello in Go', 'a message in pieces';
    waitpid $pid, 0;
}
{
    my ($us) = exchange('', close => 1);
    is_deeply [ Hello::read_message($us, Hello::clock() + 5) ], [], 'the peer closed without a message';
}
{
    my ($us, $peer) = exchange('');
    ok !eval { Hello::read_message($us, Hello::clock() + 0.2); 1 }, 'nothing before the deadline';
    is $@, "no message\n", 'nothing before the deadline: why';
}

done_testing;
