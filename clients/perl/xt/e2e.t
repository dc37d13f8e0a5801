# End to end: the programs in bin/, started as interop.json starts them,
# over loopback, some through LossyRelay. About a minute; run by hand:
#   prove -l xt/
use v5.36;
use Test::More;
use File::Temp qw(tempdir);
use FindBin ();
use lib "$FindBin::Bin";
use IO::Socket::IP ();
use LossyRelay ();

my $BIN = "$FindBin::Bin/../bin";

sub free_port ($proto) {
    my $socket = IO::Socket::IP->new(LocalHost => '127.0.0.1', LocalPort => 0, Proto => $proto) or die $!;
    return $socket->sockport;
}

sub slurp ($path) {
    open my $fh, '<:raw', $path or die "$path: $!";
    local $/;
    return scalar <$fh>;
}

sub random_file ($dir, $size) {
    my $data = join '', map { chr int rand 256 } 1 .. $size;
    open my $fh, '>:raw', "$dir/input" or die $!;
    print $fh $data;
    close $fh;
    return ("$dir/input", $data);
}

# Runs a command in the background with $dir as its working directory.
sub spawn ($dir, @command) {
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        chdir $dir or die "$dir: $!";
        open STDERR, '>', '/dev/null' unless $ENV{TEST_VERBOSE};
        exec @command or die "exec: $!";
    }
    return $pid;
}

sub stop ($pid) {
    kill 'TERM', $pid;
    waitpid $pid, 0;
    return $?;
}

# Sends a file of $size bytes through a relay with %network, checks it.
sub transfer ($name, $size, %network) {
    my $sack = delete $network{sack};
    my $out = tempdir(CLEANUP => 1);
    my $port = free_port('udp');
    my $receiver = spawn($out, "$BIN/rudp-receiver", '-p', $port, '-t', 10, $sack ? '-k' : ());
    select undef, undef, undef, 0.5;
    my $relay = LossyRelay->start(to => $port, %network);
    my ($file, $data) = random_file(tempdir(CLEANUP => 1), $size);
    my $sender = spawn('/', "$BIN/rudp-sender", '-a', 'localhost', '-p', $relay->port, '-f', $file, $sack ? '-k' : ());
    waitpid $sender, 0;
    is $?, 0, "$name: the sender exits 0";
    $relay->stop;
    is stop($receiver), 0, "$name: the receiver exits 0 on SIGTERM";
    opendir my $dh, $out or die $!;
    my @files = grep { !/\A\.\.?\z/ && !/\.partial\z/ } readdir $dh;
    is scalar @files, 1, "$name: one output file";
    ok @files && slurp("$out/$files[0]") eq $data, "$name: the file arrived intact";
}

transfer('clean', 200_000);
transfer('empty file', 0);
transfer('10% loss', 100_000, loss => 0.1, seed => 2);
transfer('10% loss, sack', 100_000, loss => 0.1, sack => 1, seed => 3);
transfer('duplicates, reordering, corruption', 100_000, duplicate => 0.1, reorder => 0.2, corrupt => 0.05, seed => 4);
transfer('50% loss', 30_000, loss => 0.5, seed => 5);
transfer('3 s blackout', 300_000, blackout => [ 0.3, 3.3 ], seed => 6);

# RUDP-44: with nobody listening, the sender gives up and says so.
{
    my ($file) = random_file(tempdir(CLEANUP => 1), 10);
    my $port = free_port('udp');
    my $output = qx{$BIN/rudp-sender -a 127.0.0.1 -p $port -f $file --give-up 2 2>&1};
    isnt $?, 0, 'no receiver: the sender fails';
    like $output, qr/start was never acknowledged/, 'no receiver: and says why';
}

# Hello: our client against our challenge server.
{
    my $port = free_port('tcp');
    my $out = tempdir(CLEANUP => 1);
    my $pid = fork // die;
    if ($pid == 0) {
        open STDOUT, '>', "$out/stdout" or die;
        open STDERR, '>', '/dev/null';
        exec "$BIN/hello", 'server', $port, '--challenge' or die;
    }
    select undef, undef, undef, 0.8;
    my $reply = qx{$BIN/hello client localhost $port};
    is $?, 0, 'hello: the client exits 0';
    is $reply, "Goodbye Perl from Perl\n", 'hello: the challenge reply';
    select undef, undef, undef, 0.2;
    stop($pid);
    is slurp("$out/stdout"), "127.0.0.1\nHello in Perl\n", 'hello: the server prints the address and the message';
}

# HELLO-8: nothing listens.
{
    my $port = free_port('tcp');
    my $output = qx{$BIN/hello client 127.0.0.1 $port 2>&1};
    isnt $?, 0, 'hello: refused: the client fails';
    like $output, qr/could not connect/, 'hello: refused: and says why';
}

done_testing;
