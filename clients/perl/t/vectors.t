# Every vector of spec/vectors/datagrams.json and receiver.json.
use v5.36;
use Test::More;
use File::Compare qw(compare);
use File::Spec ();
use File::Temp qw(tempdir);
use FindBin ();
use lib "$FindBin::Bin/lib";
use RUDP ();
use RUDP::Receiver ();
use Vectors ();

SKIP: {
    skip 'spec/vectors is not here (docker build)', 2 unless -d $Vectors::SPEC_DIR;
    for my $name (qw(datagrams.json receiver.json)) {
        is compare(File::Spec->catfile($Vectors::SPEC_DIR, $name), File::Spec->catfile($Vectors::DIR, $name)), 0,
            "t/vectors/$name is current (else copy spec/vectors/$name over it)";
    }
}

for my $vector (@{ Vectors::load('datagrams.json')->{vectors} }) {
    subtest "datagram: $vector->{name}" => sub { check_datagram($vector) };
}
for my $script (@{ Vectors::load('receiver.json')->{vectors} }) {
    subtest "receiver: $script->{name}" => sub { run_script($script) };
}
done_testing;

sub check_datagram ($vector) {
    my $datagram = Vectors::bytes($vector->{datagram});
    my ($packet, $error) = RUDP::parse($datagram);
    unless ($vector->{valid}) {
        is $packet, undef, 'rejected';
        is $error, $vector->{error}, 'error class';
        return;
    }

    my $expected = $vector->{packet};
    ok $packet, 'accepted' or return;
    is $packet->{type}, $expected->{type}, 'type';
    is "$packet->{seqno}", $expected->{seqno}, 'seqno';
    is $packet->{data}, Vectors::bytes($expected->{data}), 'data' if $expected->{data};
    is_deeply [ map {"$_"} @{ $packet->{sacks} } ], $expected->{sacks} // [], 'sacks';
    is encode($packet), $datagram, 'canonical encoding' if $vector->{canonical};
}

sub encode ($packet) {
    return RUDP::encode_ack($packet->{seqno}) if $packet->{type} eq 'ack';
    return RUDP::encode_ack($packet->{seqno}, $packet->{sacks}) if $packet->{type} eq 'sack';
    return RUDP::encode(@$packet{qw(type seqno data)});
}

# Feeds the script's datagrams to the receiver's logic with a fake clock,
# checks every ack, then the files left in the output directory.
sub run_script ($script) {
    my $dir = tempdir(CLEANUP => 1);
    my $receiver = RUDP::Receiver->new(dir => $dir, timeout => $script->{idle_timeout_ms} / 1000, sack => $script->{sack});
    my $i = 0;
    for my $step (@{ $script->{steps} }) {
        my $now = $step->{at_ms} / 1000;
        $receiver->expire($now);
        my ($ip, $port) = $step->{from} =~ /\A\[?(.*?)\]?:(\d+)\z/ or die "bad address $step->{from}";
        my $ack = $receiver->handle(Vectors::bytes($step->{datagram}), $ip, $port, $now);
        my $where = sprintf 'step %d (%.40s): %s', $i++, $step->{datagram}{escaped}, $step->{note} // '';
        is $ack, $step->{ack} ? Vectors::bytes($step->{ack}) : undef, $where;
    }
    $receiver->abandon_all;

    my %expected = map { $_->{name} => Vectors::bytes($_->{content}) } @{ $script->{files} };
    opendir my $dh, $dir or die "$dir: $!";
    my %actual = map { $_ => Vectors::slurp(File::Spec->catfile($dir, $_)) } grep { !/\A\.\.?\z/ } readdir $dh;
    is_deeply \%actual, \%expected, 'output files';
}
