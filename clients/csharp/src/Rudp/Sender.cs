// The RUDP sender (spec/rudp.md, RUDP-40..RUDP-46). Its design follows the
// reference sender ("How the reference sender works" in spec/rudp.md).
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net.Sockets;

namespace Interop.Rudp
{
    /// <summary>
    /// Cuts the input into the packets of one transfer (RUDP-7): start first
    /// with the first payload, data after it, end last with the last payload,
    /// or empty when the input ends inside start (an empty or one-packet file).
    /// Every payload but the last is as large as a datagram allows (RUDP-46).
    ///
    /// It reads one payload ahead, because end must carry the last payload: a
    /// packet's type is known only once we know whether more input follows.
    /// Only that one payload is kept, so any input size works.
    /// </summary>
    public sealed class Packetizer
    {
        readonly Stream input;
        readonly ulong first;
        ulong seqno;
        byte[] pending; // the next packet's payload; null after end

        public Packetizer(Stream input, ulong firstSeqno)
        {
            this.input = input;
            first = seqno = firstSeqno;
            pending = Read(Datagram.MaxPayload("start", firstSeqno));
        }

        /// <summary>The next packet's seqno and datagram; false after end.</summary>
        public bool Next(out ulong packetSeqno, out byte[] datagram, out bool isEnd)
        {
            packetSeqno = seqno;
            datagram = null;
            isEnd = false;
            if (pending == null)
                return false;

            byte[] data = pending;
            seqno++;
            byte[] following = Read(Datagram.MaxPayload("data", seqno));
            string type = packetSeqno == first ? "start" : following.Length == 0 ? "end" : "data";
            isEnd = type == "end";
            pending = isEnd ? null : following;
            datagram = Datagram.Encode(type, packetSeqno, data);
            return true;
        }

        // Stream.Read may return fewer bytes than asked (a pipe does): read
        // until the payload is full or the input ends.
        byte[] Read(int size)
        {
            var buffer = new byte[size];
            int filled = 0, n;
            while (filled < size && (n = input.Read(buffer, filled, size - filled)) > 0)
                filled += n;
            if (filled < size)
                Array.Resize(ref buffer, filled);
            return buffer;
        }
    }

    /// <summary>
    /// The retransmission timeout (RTO) from measured round-trip times, as
    /// RFC 6298 says (RUDP-41), with the limits spec/rudp.md recommends.
    /// </summary>
    public sealed class RttEstimator
    {
        public const double Initial = 0.5; // seconds: the course's 500 ms, until the first sample
        public const double Min = 0.2;     // Linux's floor: below it, scheduling hiccups fire the timer
        public const double Max = 1.0;     // the backoff cap, far below the receiver's 10 s idle timeout (RUDP-44)

        double rttvar;

        /// <summary>The smoothed RTT in seconds; null until the first sample.</summary>
        public double? Srtt { get; private set; }
        public double Rto { get; private set; } = Initial;

        /// <summary>RFC 6298 (2.2) for the first sample, (2.3) after it.</summary>
        public void Sample(double rtt)
        {
            if (Srtt is double srtt)
            {
                rttvar = 0.75 * rttvar + 0.25 * Math.Abs(srtt - rtt);
                Srtt = 0.875 * srtt + 0.125 * rtt;
            }
            else
            {
                Srtt = rtt;
                rttvar = rtt / 2;
            }
            Reset();
        }

        /// <summary>
        /// The timeout without backoff, SRTT + 4 RTTVAR within [Min, Max]. Also
        /// called on ack progress: a path that delivers again ends any backoff,
        /// also when Karn's rule gave no sample (as the reference and Linux do).
        /// </summary>
        public void Reset()
        {
            Rto = Srtt is double srtt ? Clamp(srtt + Math.Max(4 * rttvar, 0.001), Min, Max) : Initial;
        }

        /// <summary>RFC 6298 (5.5): double the timeout after an expiry, up to Max.</summary>
        public void BackOff() => Rto = Math.Min(Rto * 2, Max);

        static double Clamp(double x, double lo, double hi) => Math.Max(lo, Math.Min(hi, x));
    }

    /// <summary>The sender gave up: no ack progress for too long (RUDP-44).</summary>
    public sealed class GiveUpException : Exception
    {
        public GiveUpException(string message) : base(message) { }
    }

    /// <summary>
    /// Sends one input reliably to a receiver over a connected UDP socket.
    ///
    /// One thread and one loop: send while the window allows, wait for an ack
    /// or a timer, react.
    /// </summary>
    public sealed class Sender
    {
        public const int DupThreshold = 3;     // RUDP-42: fast retransmit on the 3rd duplicate ack
        public const double GiveUpAfter = 60;  // RUDP-44: seconds without ack progress before giving up

        /// <summary>A packet sent and not yet cumulatively acked.</summary>
        sealed class Slot
        {
            public ulong Seqno;
            public byte[] Datagram;
            public double SentAt;
            public int Sends;
            public bool Sacked;
        }

        readonly Socket socket;
        readonly Packetizer packets;
        readonly ulong first;
        readonly bool sack;
        readonly double giveUp;
        readonly Action<string> log; // debug output (-d), or null
        readonly RttEstimator rtt = new RttEstimator();
        readonly List<Slot> window = new List<Slot>(); // seqnos cum .. nextSeqno-1 (RUDP-40)
        readonly byte[] receiveBuffer = new byte[2048];

        ulong cum;             // the highest cumulative ack: the next seqno the receiver expects
        ulong nextSeqno;       // the seqno of the next new packet
        bool endSent, done;    // done: end is acked
        int dupAcks;
        bool sackEvidence;     // the last ack was a sack (a plain-ack receiver sends none)
        bool heard;            // an ack arrived since the last timeout
        double? timer;         // when the retransmission timer fires, or null when off
        double? checkAt;       // when a suspected loss becomes overdue, or null
        double lastProgress;
        string lastError;

        public Sender(Socket socket, Stream input, ulong firstSeqno, bool sack = false,
                      double giveUp = GiveUpAfter, Action<string> log = null)
        {
            this.socket = socket;
            packets = new Packetizer(input, firstSeqno);
            first = cum = nextSeqno = firstSeqno;
            this.sack = sack;
            this.giveUp = giveUp;
            this.log = log;
            lastProgress = Clock.Now;
        }

        /// <summary>
        /// Sends everything and returns once end is acked (RUDP-45); throws
        /// GiveUpException after giveUp seconds without progress (RUDP-44).
        /// </summary>
        public void Run()
        {
            while (!done)
            {
                while (MaySend())
                    SendNew();
                double? wake = Min(timer, checkAt);
                if (Readable(wake))
                    ReceiveAcks();
                double now = Clock.Now;
                if (timer <= now)
                    OnTimeout(now);
                if (checkAt <= now)
                    DetectLosses(now);
            }
        }

        void Log(Func<string> line)
        {
            if (log != null)
                log(line());
        }

        static double? Min(double? a, double? b) => a == null ? b : b == null ? a : Math.Min(a.Value, b.Value);

        // Waits until an ack is waiting or until the wake-up time (forever if null).
        bool Readable(double? wake)
        {
            int micros = -1;
            if (wake is double at)
                micros = (int)Math.Ceiling(Math.Max(at - Clock.Now, 0) * 1e6);
            try
            {
                return socket.Poll(micros, SelectMode.SelectRead);
            }
            catch (SocketException e)
            {
                lastError = e.Message;
                return false;
            }
        }

        // RUDP-40: a new packet only while fewer than Window are in flight, so
        // every seqno sent is below cum + Window. And nothing after start until
        // start is acked: a receiver drops whatever arrives before start
        // (RUDP-11), so a lost start would take the rest of the window with it.
        bool MaySend() => !endSent && window.Count < Datagram.Window && (nextSeqno == first || cum > first);

        void SendNew()
        {
            packets.Next(out ulong seqno, out byte[] datagram, out bool isEnd);
            endSent = isEnd;
            nextSeqno = seqno + 1;
            var slot = new Slot { Seqno = seqno, Datagram = datagram };
            window.Add(slot);
            Transmit(slot, "new");
        }

        void Transmit(Slot slot, string why)
        {
            Log(() => $"send {slot.Seqno} ({why}, {slot.Datagram.Length} bytes, rto {rtt.Rto * 1000:F0} ms)");
            try
            {
                socket.Send(slot.Datagram);
            }
            catch (SocketException e) // lost like any datagram: the timer retries
            {
                lastError = e.Message;
                Log(() => $"send {slot.Seqno} failed: {e.Message}");
            }
            slot.Sends++;
            slot.SentAt = Clock.Now;
            if (timer == null)
                timer = slot.SentAt + rtt.Rto; // RFC 6298 (5.1): start the timer if off
        }

        void Retransmit(Slot slot, string why)
        {
            Transmit(slot, why);
            // The repaired head gets a full timeout of its own.
            if (slot == window[0])
                timer = slot.SentAt + rtt.Rto;
        }

        // Reads every datagram waiting on the socket.
        void ReceiveAcks()
        {
            try
            {
                while (!done && socket.Poll(0, SelectMode.SelectRead))
                {
                    int n = socket.Receive(receiveBuffer);
                    OnDatagram(receiveBuffer, n);
                }
            }
            catch (SocketException e) // ICMP port unreachable: no receiver (yet)
            {
                lastError = e.Message;
                Log(() => "receive failed: " + e.Message);
            }
        }

        void OnDatagram(byte[] buffer, int length)
        {
            Packet ack;
            try
            {
                ack = Datagram.Parse(buffer, length);
            }
            catch (MalformedDatagramException e) // RUDP-6: a corrupted ack is dropped, never acted on
            {
                Log(() => "dropped ack: " + e.Message);
                return;
            }
            if (ack.IsAck)
                OnAck(ack);
            else
                Log(() => $"dropped a {ack.Type} packet");
        }

        // An ack or sack carries the next seqno the receiver expects.
        void OnAck(Packet ack)
        {
            heard = true;
            if (ack.Seqno < cum || ack.Seqno > nextSeqno) // stale (reordered) or bogus
            {
                Log(() => $"ignored ack {ack.Seqno} (window {cum}..{nextSeqno})");
                return;
            }
            if (ack.Seqno > cum)
            {
                Advance(ack.Seqno);
                if (done)
                    return;
            }
            else if (window.Count > 0)
            {
                dupAcks++;
            }
            // With -k, sacks show which packets after a hole arrived (RUDP-32).
            // A receiver without SACK answers with plain acks: then judge by those.
            sackEvidence = sack && ack.Type == "sack";
            if (sackEvidence)
            {
                foreach (ulong seqno in ack.Sacks)
                {
                    Slot slot = SlotFor(seqno);
                    if (slot != null)
                        slot.Sacked = true;
                }
            }
            DetectLosses(Clock.Now);
        }

        // The cumulative ack moved from cum to newCum: those packets arrived
        // and are forgotten, so they are never sent again (RUDP-43).
        void Advance(ulong newCum)
        {
            double now = Clock.Now;
            int count = (int)(newCum - cum);
            List<Slot> acked = window.GetRange(0, count);
            window.RemoveRange(0, count);
            cum = newCum;
            done = endSent && cum == nextSeqno; // RUDP-45: end is acked
            // Karn's rule: only packets sent once give an unambiguous RTT. The
            // oldest one newly acked errs on the long side, the safe side for a timeout.
            if (acked.All(slot => slot.Sends == 1))
                rtt.Sample(now - acked[0].SentAt);
            else
                rtt.Reset();
            Log(() => $"ack {newCum}, rto {rtt.Rto * 1000:F0} ms");
            dupAcks = 0;
            lastProgress = now;
            timer = window.Count == 0 ? (double?)null : now + rtt.Rto; // RFC 6298 (5.2, 5.3)
        }

        Slot SlotFor(ulong seqno) => seqno >= cum && seqno - cum < (ulong)window.Count ? window[(int)(seqno - cum)] : null;

        // Resends the packets the acks show lost, without waiting for the
        // timer, and sets checkAt for those that will count as lost if no ack
        // comes first. A packet is lost when packets sent after it have arrived
        // (the evidence: duplicate acks, or packets sacked above it), and
        // - it was sent once and 3 packets sent after it arrived: the 3rd
        //   duplicate ack (RUDP-42), or 3 sacked above it (RFC 6675);
        // - or it has been out for more than a round trip (RACK, RFC 8985, which
        //   RUDP-42 allows). With a window of 5, a lost packet often has fewer
        //   than 3 followers, and duplicate acks get lost too; this repairs it
        //   in about one RTT.
        // A repair that goes unanswered is probed once more after 2 SRTT (a
        // tail loss probe); after that only the timer resends the packet.
        // Without SACK only the oldest packet can be judged; with SACK every hole.
        void DetectLosses(double now)
        {
            checkAt = null;
            foreach (var suspect in Suspects())
            {
                Slot slot = suspect.Key;
                int evidence = suspect.Value;
                if (evidence == 0)
                    continue;
                double? due = LostAt(slot);
                if ((slot.Sends == 1 && evidence >= DupThreshold) || due <= now)
                {
                    Retransmit(slot, slot.Sends == 1 ? "lost" : "probe");
                    due = LostAt(slot);
                }
                checkAt = Min(checkAt, due);
            }
        }

        // When a packet with evidence against it counts as lost: a round trip
        // and a quarter (at least 2 ms, for reordering) after its first send; a
        // repair 2 round trips after it. Null before the first RTT sample, and
        // once the probe went out.
        double? LostAt(Slot slot)
        {
            if (!(rtt.Srtt is double srtt) || slot.Sends > 2)
                return null;
            return slot.SentAt + (slot.Sends == 1 ? srtt + Math.Max(srtt / 4, 0.002) : Math.Max(2 * srtt, 0.01));
        }

        // (slot, evidence) for each packet that may be lost: with sacks every
        // packet not sacked, with the number sacked above it; else the oldest
        // packet, with the duplicate acks.
        List<KeyValuePair<Slot, int>> Suspects()
        {
            var list = new List<KeyValuePair<Slot, int>>();
            if (!sackEvidence)
            {
                if (window.Count > 0)
                    list.Add(new KeyValuePair<Slot, int>(window[0], dupAcks));
                return list;
            }
            int above = 0;
            for (int i = window.Count - 1; i >= 0; i--)
            {
                if (window[i].Sacked)
                    above++;
                else
                    list.Add(new KeyValuePair<Slot, int>(window[i], above));
            }
            return list;
        }

        // The retransmission timer expired (RUDP-41): the oldest packet has
        // gone unacked for a whole RTO.
        void OnTimeout(double now)
        {
            if (now - lastProgress >= giveUp)
            {
                string detail = lastError != null ? $" (last error: {lastError})" : "";
                if (cum > first)
                    throw new GiveUpException($"no ack progress for {giveUp} s{detail}");
                throw new GiveUpException($"start was never acknowledged in {giveUp} s{detail}: is a receiver listening there?");
            }
            // RFC 6298 (5.5), but back off only while the path is silent: if acks
            // came since the last expiry, the losses are random, and doubling
            // would only stretch every later wait.
            if (heard)
                rtt.Reset();
            else
                rtt.BackOff();
            heard = false;
            dupAcks = 0;
            // Nothing is known to have arrived for a whole RTO: resend every
            // packet not known to be held (RUDP-32), as TCP does after a timeout.
            // A lone packet goes twice: it needs itself and one ack to get through.
            var resend = window.Where(slot => !slot.Sacked).ToList();
            if (resend.Count == 1)
                resend.Add(resend[0]);
            foreach (var slot in resend)
                Transmit(slot, "timeout");
            timer = Clock.Now + rtt.Rto; // RFC 6298 (5.6)
        }
    }
}
