package Hello;

# Hello Internet over TCP (spec/hello.md): what the client and the server
# share. We send a message as one UTF-8 line ending in "\n" (HELLO-1), and
# receive leniently (HELLO-2): a message also ends when the peer closes its
# side, or when it has sent something and then stays quiet for a second,
# because some programs never send the newline.

use v5.36;

use IO::Select ();
use Time::HiRes ();

use constant {
    LANGUAGE    => 'Perl',
    IDLE_GAP    => 1,         # HELLO-2: this long a pause after some bytes ends a message
    TIMEOUT     => 10,        # the longest wait for a message (and a client's whole run)
    MAX_MESSAGE => 64 * 1024, # longer messages are cut here
};

# HELLO-15: whitespace, and the NUL padding of C programs.
my $BLANK = qr/[\s\0]+/;

sub clock () { Time::HiRes::clock_gettime(Time::HiRes::CLOCK_MONOTONIC()) }

# Reads one message leniently (HELLO-2): up to "\n", the peer's close or
# reset, or an idle gap of IDLE_GAP seconds after some bytes. Returns the
# bytes before the "\n"; an empty list when the peer closed without sending
# anything. Dies with "no message\n" if nothing came by $deadline (a clock
# value), which also ends a message that is still trickling in.
sub read_message ($socket, $deadline) {
    my $select = IO::Select->new($socket);
    my $data = '';
    until (index($data, "\n") >= 0 || length $data >= MAX_MESSAGE) {
        my $wait = $deadline - clock();
        $wait = IDLE_GAP if length $data && $wait > IDLE_GAP;
        unless ($wait > 0 && $select->can_read($wait)) {
            die "no message\n" unless length $data;
            last; # the idle gap: a message without "\n"
        }
        my $got = sysread $socket, $data, 4096, length $data;
        last unless $got; # 0: the peer closed; undef: reset. What came before is intact.
    }
    return () unless length $data;
    return substr((split /\n/, $data, 2)[0] // '', 0, MAX_MESSAGE);
}

# The text of a message: decoded from UTF-8, without surrounding whitespace
# such as "\r\n" or NUL bytes (HELLO-15). The built-in utf8::decode needs no
# module (Encode would cost a noticeable part of the start-up time); it leaves
# a message that is not valid UTF-8 as it is.
sub text ($message) {
    my $text = $message;
    utf8::decode($text);
    $text =~ s/\A$BLANK|$BLANK\z//g;
    return $text;
}

# HELLO-20: the challenge reply to a client's message, "Goodbye X from
# Perl", where X is what follows "Hello in" (any letter case), or the whole
# message if it does not start so; runs of whitespace count as one space.
# Returns UTF-8 bytes, ready to send.
sub challenge_reply ($message) {
    my @words = split $BLANK, text($message);
    splice @words, 0, 2 if @words >= 3 && fc $words[0] eq 'hello' && fc $words[1] eq 'in';
    my $reply = join(' ', 'Goodbye', @words, 'from', LANGUAGE) . "\n";
    utf8::encode($reply);
    return $reply;
}

1;
