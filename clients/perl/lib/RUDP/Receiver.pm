use v5.36;

use RUDP ();

# One file arriving from one source address (RUDP-10).
package RUDP::Transfer {
    use RUDP qw(WINDOW);

    # $name is the output path, built by the caller from the source address
    # only, never from packet content (RUDP-16). Dies when the file cannot
    # be created.
    sub new ($class, $name, $start, $now) {
        my $self = bless {
            name       => $name,
            start      => $start,         # to tell a retransmitted start from a new one (RUDP-18)
            expected   => $start->{seqno}, # next-expected: the next seqno to write
            buffered   => {},             # seqno => packet, out of order but inside the window
            complete   => 0,
            last_heard => $now,
        }, $class;
        # RUDP-15: incomplete until renamed.
        open $self->{file}, '>:raw', $self->partial_name
            or die "cannot create $self->{name}.partial: $!\n";
        return $self;
    }

    sub name       ($self) { $self->{name} }
    sub start      ($self) { $self->{start} }
    sub expected   ($self) { $self->{expected} }
    sub last_heard ($self) { $self->{last_heard} }
    sub complete   ($self) { $self->{complete} }
    sub partial_name ($self) { "$self->{name}.partial" }

    # Takes one valid packet of this transfer and writes what is now in order.
    sub take ($self, $packet, $now) {
        $self->{last_heard} = $now; # RUDP-15: any valid packet counts as activity
        return if $self->{complete} || !$self->{file};

        # RUDP-12: buffer only next-expected .. next-expected+4, each seqno once.
        my $seqno = $packet->{seqno};
        return unless $seqno >= $self->{expected} && $seqno - $self->{expected} < WINDOW;
        $self->{buffered}{$seqno} //= $packet;

        # RUDP-14: write in order, each packet's data once.
        while (my $next = delete $self->{buffered}{ $self->{expected} }) {
            print { $self->{file} } $next->{data} or die "cannot write $self->{name}.partial: $!\n";
            $self->{expected}++;
            if ($next->{type} eq 'end') {
                $self->finish;
                last;
            }
        }
    }

    # RUDP-13: the cumulative ack, carrying next-expected; with SACK the
    # buffered out-of-order seqnos too, ascending (RUDP-30, RUDP-31).
    sub ack ($self, $sack) {
        return RUDP::encode_ack($self->{expected}) unless $sack;
        return RUDP::encode_ack($self->{expected}, [ sort { $a <=> $b } keys %{ $self->{buffered} } ]);
    }

    # RUDP-15: drops an unfinished transfer, leaving its .partial file.
    sub abandon ($self) {
        close delete $self->{file} if $self->{file};
    }

    # RUDP-14: the file is written, closed and renamed before end is acked.
    sub finish ($self) {
        close delete $self->{file} or die "cannot write $self->{name}.partial: $!\n";
        rename $self->partial_name, $self->{name} or die "cannot rename $self->{name}.partial: $!\n";
        $self->{buffered} = {};
        $self->{complete} = 1;
    }
}

# The receiver's logic, apart from the socket so that tests can drive it
# with a fake clock: one datagram in, at most one ack out.
package RUDP::Receiver {
    use File::Spec ();
    use IO::Select ();
    use IO::Socket::IP ();
    use Socket qw(getnameinfo NI_NUMERICHOST NI_NUMERICSERV);

    use constant {
        DEFAULT_PORT   => 33122, # RUDP-61
        SWEEP_INTERVAL => 0.5,   # seconds between looks for idle transfers (RUDP-15)
    };

    # dir: the output directory; timeout: the idle timeout in seconds;
    # sack: answer with sacks (-k); log: a sub taking a line of debug output.
    sub new ($class, %options) {
        return bless {
            dir       => $options{dir} // '.',
            timeout   => $options{timeout} // 10,
            sack      => $options{sack} // 0,
            log       => $options{log},
            transfers => {}, # "ip.port" => RUDP::Transfer (RUDP-10)
        }, $class;
    }

    # <ip>.<port>, as the course's receiver names its files (RUDP-16), with
    # the ":" of IPv6 addresses replaced (2001_db8__1.6000), as the reference.
    sub file_name ($ip, $port) { "$ip.$port" =~ tr/:/_/r }

    # Handles one datagram from $ip:$port at time $now (seconds) and returns
    # the ack to send back, or undef when nothing may be sent.
    sub handle ($self, $datagram, $ip, $port, $now) {
        my $key = file_name($ip, $port);
        my ($packet, undef, $why) = RUDP::parse($datagram);
        return $self->drop($key, $why) unless $packet; # RUDP-8: silently, never acked
        # RUDP-6: a receiver ignores acks.
        return $self->drop($key, "an unexpected $packet->{type}") if $packet->{type} =~ /\As?ack\z/;

        my $transfer = $self->{transfers}{$key};
        my $ack = eval {
            if ($packet->{type} eq 'start' && !retransmitted_start($transfer, $packet)) {
                $transfer = $self->begin_transfer($key, $packet, $now);
            }
            # RUDP-11: a transfer begins with start; nothing else opens one.
            return $self->drop($key, "$packet->{type} $packet->{seqno}: no transfer") unless $transfer;

            $transfer->take($packet, $now); # RUDP-17: a completed transfer still acks
            $self->debug(sprintf '%s: %s %s, next expected %s',
                $key, $packet->{type}, $packet->{seqno}, $transfer->expected);
            $transfer->ack($self->{sack});
        };
        return $ack unless $@;

        # The directory is not writable, the disk is full...
        warn "rudp-receiver: $key: $@ transfer dropped\n";
        delete($self->{transfers}{$key})->abandon if $self->{transfers}{$key};
        return undef;
    }

    # RUDP-15: forgets the transfers idle for the timeout, complete or not.
    sub expire ($self, $now) {
        my $transfers = $self->{transfers};
        for my $key (keys %$transfers) {
            my $transfer = $transfers->{$key};
            next if $now - $transfer->last_heard < $self->{timeout};

            $self->debug("$key: idle for $self->{timeout} s, dropped") unless $transfer->complete;
            $transfer->abandon;
            delete $transfers->{$key};
        }
    }

    # Closes the files of unfinished transfers; their .partial files stay.
    sub abandon_all ($self) {
        $_->abandon for values %{ $self->{transfers} };
    }

    # A UDP socket bound to $port on all addresses (RUDP-61): IPv6 and IPv4
    # together where the host allows, else IPv4 only. Dies when it cannot.
    sub open_socket ($port) {
        my %udp = (LocalPort => $port, Proto => 'udp');
        my $socket = IO::Socket::IP->new(%udp, LocalHost => '::', V6Only => 0)
            // IO::Socket::IP->new(%udp, LocalHost => '0.0.0.0') # no IPv6 in this kernel or container
            // die "cannot listen on UDP port $port: $IO::Socket::errstr\n";
        binmode $socket, ':raw';
        return $socket;
    }

    # Serves $socket until the process is stopped: one loop and one socket
    # for every sender at once.
    sub run ($self, $socket) {
        my $select = IO::Select->new($socket);
        while (1) {
            $self->serve_one($socket) if $select->can_read(SWEEP_INTERVAL);
            $self->expire(RUDP::clock());
        }
    }

    sub serve_one ($self, $socket) {
        # A buffer larger than MAX_DATAGRAM, so that a longer datagram is seen
        # whole, and dropped, rather than cut and taken for a valid one (RUDP-2).
        my $from = $socket->recv(my $datagram, 65536);
        return $self->debug("receive failed: $!") unless defined $from;

        my ($error, $ip, $port) = getnameinfo($from, NI_NUMERICHOST | NI_NUMERICSERV);
        return $self->debug("unreadable source address: $error") if $error;
        $ip =~ s/\A::ffff:(?=\d+\.\d+\.\d+\.\d+\z)//i; # a dual-stack socket's IPv4 peer
        $ip =~ s/%.*//;                                # an IPv6 scope

        my $ack = $self->handle($datagram, $ip, $port, RUDP::clock()) // return;
        # A send error (e.g. the sender's host is unreachable right now) loses
        # the ack like the network would.
        $socket->send($ack, 0, $from) // $self->debug("send to $ip port $port failed: $!");
    }

    # Debug output (-d).
    sub debug ($self, $line) {
        $self->{log}->($line) if $self->{log};
        return undef;
    }

    sub drop ($self, $key, $why) {
        $self->debug("$key: dropped: $why");
        return undef;
    }

    # RUDP-18: a start with the current start's seqno and data repeats it;
    # any other start begins a new transfer.
    sub retransmitted_start ($transfer, $start) {
        return $transfer
            && $transfer->start->{seqno} == $start->{seqno}
            && $transfer->start->{data} eq $start->{data};
    }

    sub begin_transfer ($self, $key, $start, $now) {
        if (my $old = delete $self->{transfers}{$key}) { $old->abandon }
        $self->debug("$key: new transfer from seqno $start->{seqno}");
        my $path = File::Spec->catfile($self->{dir}, $key);
        return $self->{transfers}{$key} = RUDP::Transfer->new($path, $start, $now);
    }
}

1;
