# What the spec's receiver scripts leave open.
use v5.36;
use Test::More;
use File::Temp qw(tempdir);
use RUDP ();
use RUDP::Receiver ();

sub files_in ($dir) {
    opendir my $dh, $dir or die "$dir: $!";
    return [ sort grep { !/\A\.\.?\z/ } readdir $dh ];
}

# RUDP-31: the sack lists held seqnos in ascending order, whatever order they
# arrived in.
{
    my $receiver = RUDP::Receiver->new(dir => tempdir(CLEANUP => 1), sack => 1);
    $receiver->handle(RUDP::encode('start', 0, 'a'), '10.0.0.1', 5000, 0);
    $receiver->handle(RUDP::encode('data', 4, 'e'), '10.0.0.1', 5000, 0);
    $receiver->handle(RUDP::encode('data', 2, 'c'), '10.0.0.1', 5000, 0);
    is $receiver->handle(RUDP::encode('data', 3, 'd'), '10.0.0.1', 5000, 0), RUDP::encode_ack(1, [ 2, 3, 4 ]),
        'sack list is ascending';
}

# RUDP-14: when the ack of end is returned, the file is complete, closed and
# under its final name.
{
    my $dir = tempdir(CLEANUP => 1);
    my $receiver = RUDP::Receiver->new(dir => $dir);
    $receiver->handle(RUDP::encode('start', 7, 'Hello '), '10.0.0.1', 5000, 0);
    $receiver->handle(RUDP::encode('data', 8, 'world'), '10.0.0.1', 5000, 0);
    is_deeply files_in($dir), ['10.0.0.1.5000.partial'], 'incomplete: .partial';
    is $receiver->handle(RUDP::encode('end', 9, '!'), '10.0.0.1', 5000, 0), RUDP::encode_ack(10), 'end acked';
    is_deeply files_in($dir), ['10.0.0.1.5000'], 'complete: renamed';
    open my $fh, '<:raw', "$dir/10.0.0.1.5000" or die;
    is do { local $/; <$fh> }, 'Hello world!', 'complete: the data';
}

# RUDP-3, RUDP-12: the window works at the top of the seqno space without
# losing precision.
{
    my $receiver = RUDP::Receiver->new(dir => tempdir(CLEANUP => 1), sack => 1);
    is $receiver->handle(RUDP::encode('start', '18446744073709551605', 'a'), '10.0.0.1', 5000, 0),
        RUDP::encode_ack('18446744073709551606', []), 'start near 2**64';
    is $receiver->handle(RUDP::encode('data', '18446744073709551611', 'z'), '10.0.0.1', 5000, 0),
        RUDP::encode_ack('18446744073709551606', []), 'just outside the window near 2**64: dropped, acked';
    is $receiver->handle(RUDP::encode('data', '18446744073709551610', 'y'), '10.0.0.1', 5000, 0),
        RUDP::encode_ack('18446744073709551606', ['18446744073709551610']), 'top of the window near 2**64: held';
}

# RUDP-16: IPv6 colons are not kept in file names.
is RUDP::Receiver::file_name('2001:db8::1', 6000), '2001_db8__1.6000', 'IPv6 file name';

# An output directory we cannot write to: the transfer is dropped, no ack.
SKIP: {
    skip 'root writes anywhere', 1 if $> == 0;
    my $dir = tempdir(CLEANUP => 1);
    chmod 0555, $dir;
    my $receiver = RUDP::Receiver->new(dir => $dir);
    local $SIG{__WARN__} = sub { };
    is $receiver->handle(RUDP::encode('start', 0, 'a'), '10.0.0.1', 5000, 0), undef, 'unwritable directory: no ack';
}

done_testing;
