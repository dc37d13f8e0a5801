package Vectors;

# The spec's test vectors (spec/vectors/README.md), copied into t/vectors so
# that the tests also run inside `docker build`, where only this folder is
# visible. t/vectors.t checks that the copies are current.

use v5.36;

use File::Basename qw(dirname);
use File::Spec ();
use JSON::PP ();
use MIME::Base64 ();

our $DIR      = File::Spec->catdir(dirname(__FILE__), '..', 'vectors');
our $SPEC_DIR = File::Spec->catdir(dirname(__FILE__), '..', '..', '..', '..', 'spec', 'vectors');

sub slurp ($path) {
    open my $fh, '<:raw', $path or die "cannot read $path: $!\n";
    local $/;
    return scalar <$fh>;
}

sub load ($name) { JSON::PP->new->decode(slurp(File::Spec->catfile($DIR, $name))) }

# A byte string of the vectors: { "base64": ..., "escaped": ... }.
sub bytes ($field) { MIME::Base64::decode_base64($field->{base64}) }

1;
