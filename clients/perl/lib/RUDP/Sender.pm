use v5.36;

use RUDP ();

# Cuts the input into the packets of one transfer (RUDP-7): start first with
# the first payload, data after it, end last with the last payload, or empty
# when the input ends inside start (an empty or one-packet file). Every
# payload but the last is as large as a datagram allows (RUDP-46).
#
# It reads one payload ahead, because end must carry the last payload: a
# packet's type is known only once we know whether more input follows. Only
# that one payload is kept, so any input size works.
package RUDP::Packetizer {
    sub new ($class, $input, $first_seqno) {
        my $self = bless { input => $input, first => $first_seqno, seqno => $first_seqno }, $class;
        $self->{data} = $self->read_payload(RUDP::max_payload('start', $first_seqno)); # the next packet's payload
        return $self;
    }

    # The next packet as (seqno, datagram, is-end), or an empty list after end.
    sub next_packet ($self) {
        return () unless defined $self->{data};

        my $seqno = $self->{seqno}++;
        my $data = $self->{data};
        my $following = $self->read_payload(RUDP::max_payload('data', $self->{seqno}));
        my $type = $seqno == $self->{first} ? 'start'
                 : length $following == 0   ? 'end'
                 :                            'data';
        $self->{data} = $type eq 'end' ? undef : $following;
        return ($seqno, RUDP::encode($type, $seqno, $data), $type eq 'end');
    }

    # Up to $size bytes: read() may return fewer from a pipe, so it loops
    # until $size bytes or the end of the input. Dies if reading fails.
    sub read_payload ($self, $size) {
        my $buffer = '';
        while (length $buffer < $size) {
            my $got = read $self->{input}, $buffer, $size - length $buffer, length $buffer;
            die "cannot read the input: $!\n" unless defined $got;
            last if $got == 0;
        }
        return $buffer;
    }
}

# The retransmission timeout (RTO) from measured round-trip times, as RFC
# 6298 says (RUDP-41), with the limits spec/rudp.md recommends.
package RUDP::RttEstimator {
    use List::Util qw(max min);

    use constant {
        INITIAL => 0.5, # seconds: the course's 500 ms, until the first sample
        MIN     => 0.2, # Linux's floor: below it, scheduling hiccups fire the timer
        MAX     => 1.0, # the backoff cap, far below the receiver's 10 s idle timeout (RUDP-44)
    };

    sub new ($class) {
        return bless { srtt => undef, rttvar => 0, rto => INITIAL }, $class;
    }

    sub srtt ($self) { $self->{srtt} } # smoothed RTT; undef until the first sample
    sub rto  ($self) { $self->{rto} }

    # RFC 6298 (2.2) for the first sample, (2.3) after it.
    sub sample ($self, $rtt) {
        if (defined $self->{srtt}) {
            $self->{rttvar} = 0.75 * $self->{rttvar} + 0.25 * abs($self->{srtt} - $rtt);
            $self->{srtt}   = 0.875 * $self->{srtt} + 0.125 * $rtt;
        }
        else {
            $self->{srtt}   = $rtt;
            $self->{rttvar} = $rtt / 2;
        }
        $self->reset;
    }

    # The timeout without backoff, SRTT + 4 RTTVAR within [MIN, MAX]. Also
    # called on ack progress: a path that delivers again ends any backoff,
    # also when Karn's rule gave no sample (as the reference and Linux do).
    sub reset ($self) {
        return $self->{rto} = INITIAL unless defined $self->{srtt};
        my $rto = $self->{srtt} + max(4 * $self->{rttvar}, 0.001);
        return $self->{rto} = min(max($rto, MIN), MAX);
    }

    # RFC 6298 (5.5): double the timeout after an expiry, up to MAX.
    sub back_off ($self) {
        return $self->{rto} = min(2 * $self->{rto}, MAX);
    }
}

# Sends one input reliably to a receiver over a connected UDP socket.
#
# One process and one loop: send while the window allows, wait for an ack or
# a timer, react. The design follows the reference sender, described in
# spec/rudp.md ("How the reference sender works"), in a smaller form.
package RUDP::Sender {
    use Errno qw(EAGAIN EWOULDBLOCK EINTR);
    use IO::Select ();
    use List::Util qw(max min);
    use RUDP qw(WINDOW);
    use Socket qw(MSG_DONTWAIT);

    use constant {
        DUP_THRESHOLD => 3,  # RUDP-42: fast retransmit on the 3rd duplicate ack
        GIVE_UP       => 60, # RUDP-44: seconds without ack progress before giving up
        MAX_WAIT      => 1,  # seconds: the longest sleep in the loop, whatever the timers say
    };

    # socket: a connected UDP socket; input: a file handle; first_seqno;
    # sack: use the sacks of a -k receiver (RUDP-32); give_up: seconds;
    # log: a sub taking a line of debug output.
    sub new ($class, %options) {
        my $first = $options{first_seqno} // 0;
        return bless {
            socket        => $options{socket},
            select        => IO::Select->new($options{socket}),
            packets       => RUDP::Packetizer->new($options{input}, $first),
            sack          => $options{sack} // 0,
            give_up       => $options{give_up} // GIVE_UP,
            log           => $options{log},
            rtt           => RUDP::RttEstimator->new,
            first         => $first,
            cum           => $first, # the last cumulative ack (the start seqno before any)
            next_seqno    => $first, # the next new packet's seqno
            window        => [],     # slots of seqnos cum .. next_seqno - 1 (RUDP-40)
            end_sent      => 0,
            done          => 0,      # end is acked
            dupacks       => 0,
            sack_evidence => 0,      # the last ack was a sack (a plain-ack receiver sends none)
            heard         => 0,      # an ack arrived since the last timeout
            timer         => undef,  # when the retransmission timer fires, or undef when off
            check_at      => undef,  # when a suspected loss becomes overdue, or undef
            last_progress => RUDP::clock(),
            last_error    => undef,
        }, $class;
    }

    # Sends everything and returns once end is acked (RUDP-45); dies with a
    # message after give_up seconds without progress of the cumulative ack
    # (RUDP-44).
    sub run ($self) {
        until ($self->{done}) {
            $self->send_new while $self->may_send;
            my @deadlines = grep { defined } $self->{timer}, $self->{check_at};
            my $wait = @deadlines ? max(0, min(@deadlines) - RUDP::clock()) : MAX_WAIT;
            $self->receive_acks if $self->{select}->can_read(min($wait, MAX_WAIT));
            my $now = RUDP::clock();
            $self->on_timeout($now)     if defined $self->{timer}    && $now >= $self->{timer};
            $self->detect_losses($now)  if defined $self->{check_at} && $now >= $self->{check_at};
        }
    }

    # Debug output (-d).
    sub debug ($self, $line) {
        $self->{log}->($line) if $self->{log};
    }

    # RUDP-40: a new packet only while fewer than WINDOW are in flight, so
    # every seqno sent is below cum + WINDOW. And nothing after start until
    # start is acked: a receiver drops whatever arrives before start
    # (RUDP-11), so a lost start would take the rest of the window with it.
    sub may_send ($self) {
        return !$self->{end_sent}
            && @{ $self->{window} } < WINDOW
            && ($self->{next_seqno} == $self->{first} || $self->{cum} > $self->{first});
    }

    sub send_new ($self) {
        my ($seqno, $datagram, $last) = $self->{packets}->next_packet;
        $self->{end_sent} = $last;
        $self->{next_seqno} = $seqno + 1;
        my $slot = { seqno => $seqno, datagram => $datagram, sent_at => undef, sends => 0, sacked => 0 };
        push @{ $self->{window} }, $slot;
        $self->transmit($slot, 'new');
    }

    sub transmit ($self, $slot, $why) {
        $self->debug(sprintf 'send %s (%s, %d bytes, rto %d ms)',
            $slot->{seqno}, $why, length $slot->{datagram}, 1000 * $self->{rtt}->rto) if $self->{log};
        unless (defined $self->{socket}->send($slot->{datagram})) {
            # Lost like any datagram: the timer retries.
            $self->{last_error} = "$!";
            $self->debug("send $slot->{seqno} failed: $!");
        }
        $slot->{sends}++;
        $slot->{sent_at} = RUDP::clock();
        $self->{timer} //= $slot->{sent_at} + $self->{rtt}->rto; # RFC 6298 (5.1): start the timer if off
    }

    sub retransmit ($self, $slot, $why) {
        $self->transmit($slot, $why);
        # The repaired head gets a full timeout of its own.
        $self->{timer} = $slot->{sent_at} + $self->{rtt}->rto if $slot == $self->{window}[0];
    }

    # Reads every datagram waiting on the socket.
    sub receive_acks ($self) {
        until ($self->{done}) {
            my $from = $self->{socket}->recv(my $datagram, 2048, MSG_DONTWAIT);
            unless (defined $from) {
                return if $! == EAGAIN || $! == EWOULDBLOCK;
                next   if $! == EINTR;
                # ICMP port unreachable: no receiver (yet). Keep trying.
                $self->{last_error} = "$!";
                $self->debug("receive failed: $!");
                return;
            }
            $self->on_datagram($datagram);
        }
    }

    sub on_datagram ($self, $datagram) {
        my ($ack, undef, $why) = RUDP::parse($datagram);
        # RUDP-6: a corrupted ack is dropped, never acted on.
        return $self->debug("dropped ack: $why") unless $ack;
        return $self->debug("dropped a $ack->{type} packet") unless $ack->{type} =~ /\As?ack\z/;
        $self->on_ack($ack);
    }

    # An ack or sack carries the next seqno the receiver expects.
    sub on_ack ($self, $ack) {
        $self->{heard} = 1;
        my $seqno = $ack->{seqno};
        if ($seqno < $self->{cum} || $seqno > $self->{next_seqno}) { # stale (reordered) or bogus
            return $self->debug("ignored ack $seqno (window $self->{cum}..$self->{next_seqno})");
        }

        if ($seqno > $self->{cum}) {
            $self->advance($seqno);
            return if $self->{done};
        }
        elsif (@{ $self->{window} }) {
            $self->{dupacks}++;
        }
        # With -k, sacks show which packets after a hole arrived (RUDP-32). A
        # receiver without SACK answers with plain acks: then judge by those.
        $self->{sack_evidence} = $self->{sack} && $ack->{type} eq 'sack';
        if ($self->{sack_evidence}) {
            for my $sacked (@{ $ack->{sacks} }) {
                my $slot = $self->slot_for($sacked) or next;
                $slot->{sacked} = 1;
            }
        }
        $self->detect_losses(RUDP::clock());
    }

    # The cumulative ack moved from cum to $cum: those packets arrived and are
    # forgotten, so they are never sent again (RUDP-43).
    sub advance ($self, $cum) {
        my $now = RUDP::clock();
        my @acked = splice @{ $self->{window} }, 0, $cum - $self->{cum};
        $self->{cum} = $cum;
        $self->{done} = $self->{end_sent} && $cum == $self->{next_seqno}; # RUDP-45: end is acked
        # Karn's rule (RUDP-41): only packets sent once give an unambiguous
        # RTT. The oldest one newly acked errs on the long side, the safe side
        # for a timeout.
        if (grep { $_->{sends} > 1 } @acked) {
            $self->{rtt}->reset;
        }
        else {
            $self->{rtt}->sample($now - $acked[0]{sent_at});
        }
        $self->debug(sprintf 'ack %s, rto %d ms', $cum, 1000 * $self->{rtt}->rto) if $self->{log};
        $self->{dupacks} = 0;
        $self->{last_progress} = $now;
        # RFC 6298 (5.2, 5.3): off when all is acked, else restarted.
        $self->{timer} = @{ $self->{window} } ? $now + $self->{rtt}->rto : undef;
    }

    sub slot_for ($self, $seqno) {
        return undef if $seqno < $self->{cum};
        return $self->{window}[ $seqno - $self->{cum} ];
    }

    # Resends the packets the acks show lost, without waiting for the timer,
    # and sets check_at for those that will count as lost if no ack comes
    # first. A packet is lost when packets sent after it have arrived (the
    # evidence: duplicate acks, or packets sacked above it), and
    # - it was sent once and 3 packets sent after it arrived: the 3rd
    #   duplicate ack (RUDP-42), or 3 sacked above it (RFC 6675);
    # - or it has been out for more than a round trip (RACK, RFC 8985). With a
    #   window of 5, a lost packet often has fewer than 3 followers, and
    #   duplicate acks get lost too; this repairs it in about one RTT.
    # A repair that goes unanswered is probed once more after 2 SRTT (a tail
    # loss probe); after that only the timer resends the packet.
    # Without SACK only the oldest packet can be judged; with SACK every hole
    # (RUDP-32).
    sub detect_losses ($self, $now) {
        $self->{check_at} = undef;
        for my $suspect ($self->suspects) {
            my ($slot, $evidence) = @$suspect;
            next if $evidence == 0;

            my $due = $self->lost_at($slot);
            if (($slot->{sends} == 1 && $evidence >= DUP_THRESHOLD) || (defined $due && $now >= $due)) {
                $self->retransmit($slot, $slot->{sends} == 1 ? 'lost' : 'probe');
                $due = $self->lost_at($slot);
            }
            $self->{check_at} = min($self->{check_at} // $due, $due) if defined $due;
        }
    }

    # When a packet with evidence against it counts as lost: a round trip and
    # a quarter (at least 2 ms, for reordering) after its first send; a repair
    # 2 round trips after it. undef before the first RTT sample, and once the
    # probe went out.
    sub lost_at ($self, $slot) {
        my $srtt = $self->{rtt}->srtt;
        return undef if !defined $srtt || $slot->{sends} > 2;
        return $slot->{sent_at} + ($slot->{sends} == 1 ? $srtt + max($srtt / 4, 0.002) : max(2 * $srtt, 0.01));
    }

    # [slot, evidence] for each packet that may be lost: with sacks every
    # packet not sacked, with the number sacked above it; else the oldest
    # packet, with the duplicate acks.
    sub suspects ($self) {
        my $window = $self->{window};
        unless ($self->{sack_evidence}) {
            my $oldest = $window->[0] or return ();
            return [ $oldest, $self->{dupacks} ];
        }

        my ($above, @suspects) = (0);
        for my $slot (reverse @$window) {
            if ($slot->{sacked}) { $above++ }
            else                 { unshift @suspects, [ $slot, $above ] }
        }
        return @suspects;
    }

    # The retransmission timer expired (RUDP-41): the oldest packet has gone
    # unacked for a whole RTO.
    sub on_timeout ($self, $now) {
        if ($now - $self->{last_progress} >= $self->{give_up}) {
            my $detail = defined $self->{last_error} ? " (last error: $self->{last_error})" : '';
            die "no ack progress for $self->{give_up} s$detail\n" if $self->{cum} > $self->{first};
            die "start was never acknowledged in $self->{give_up} s$detail: is a receiver listening there?\n";
        }
        # RFC 6298 (5.5), but back off only while the path is silent: if acks
        # came since the last expiry, the losses are random, and doubling
        # would only stretch every later wait.
        $self->{heard} ? $self->{rtt}->reset : $self->{rtt}->back_off;
        $self->{heard} = 0;
        $self->{dupacks} = 0;
        # Nothing is known to have arrived for a whole RTO: resend every packet
        # not known to be held (RUDP-32), as TCP does after a timeout. A lone
        # packet goes twice: it needs itself and one ack to get through.
        my @resend = grep { !$_->{sacked} } @{ $self->{window} };
        @resend = (@resend) x 2 if @resend == 1;
        $self->transmit($_, 'timeout') for @resend;
        $self->{timer} = RUDP::clock() + $self->{rtt}->rto; # RFC 6298 (5.6)
    }
}

1;
