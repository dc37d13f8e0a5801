// The RUDP receiver (spec/rudp.md, RUDP-10..RUDP-18, RUDP-30, RUDP-31).
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;

namespace Interop.Rudp
{
    /// <summary>One file arriving from one source address (RUDP-10).</summary>
    public sealed class Transfer
    {
        readonly string path;
        readonly SortedDictionary<ulong, Packet> buffered = new SortedDictionary<ulong, Packet>(); // out of order, inside the window
        FileStream file;

        /// <summary>The start packet, to tell a retransmitted start from a new one (RUDP-18).</summary>
        public Packet Start { get; }
        /// <summary>Next-expected: the lowest seqno not yet delivered.</summary>
        public ulong Expected { get; private set; }
        public bool Complete { get; private set; }
        public double LastHeard { get; private set; }

        /// <summary>
        /// <paramref name="path"/> is the output file, built by the caller from
        /// the source address only, never from packet content (RUDP-16).
        /// </summary>
        public Transfer(string path, Packet start, double now)
        {
            this.path = path;
            Start = start;
            Expected = start.Seqno;
            LastHeard = now;
            file = new FileStream(PartialPath, FileMode.Create, FileAccess.Write); // RUDP-15: incomplete until renamed
        }

        string PartialPath => path + ".partial";

        /// <summary>Takes one valid packet of this transfer and writes what is now in order.</summary>
        public void Accept(Packet packet, double now)
        {
            LastHeard = now; // RUDP-15: any valid packet counts as activity
            if (Complete || file == null)
                return;
            // RUDP-12: buffer only next-expected .. next-expected+4, each seqno once.
            if (packet.Seqno < Expected || packet.Seqno - Expected >= Datagram.Window)
                return;
            if (!buffered.ContainsKey(packet.Seqno))
                buffered.Add(packet.Seqno, packet);
            while (buffered.TryGetValue(Expected, out Packet next)) // RUDP-14: write in order
            {
                buffered.Remove(Expected);
                file.Write(next.Data, 0, next.Data.Length);
                Expected++;
                if (next.Type == "end")
                {
                    Finish();
                    break;
                }
            }
        }

        /// <summary>
        /// RUDP-13: the cumulative ack, carrying next-expected; with SACK the
        /// buffered out-of-order seqnos too, ascending (RUDP-30, RUDP-31).
        /// </summary>
        public byte[] Ack(bool sack) => Datagram.EncodeAck(Expected, sack ? buffered.Keys.ToList() : null);

        /// <summary>RUDP-15: drops an unfinished transfer, leaving its .partial file.</summary>
        public void Abandon()
        {
            file?.Dispose();
            file = null;
        }

        // RUDP-14: the file is written, closed and renamed before end is acked.
        void Finish()
        {
            file.Dispose();
            file = null;
            if (File.Exists(path))
                File.Delete(path); // a finished earlier transfer from this address (RUDP-18)
            File.Move(PartialPath, path);
            buffered.Clear();
            Complete = true;
        }
    }

    /// <summary>
    /// The receiver's logic, apart from the socket so that tests can drive it
    /// with a fake clock: one datagram in, at most one ack out.
    /// </summary>
    public sealed class Receiver
    {
        public const int DefaultPort = 33122;     // RUDP-61
        const double SweepInterval = 0.5;         // seconds between looks for idle transfers (RUDP-15)

        readonly string directory;
        readonly double timeout;
        readonly bool sack;
        readonly Action<string> log;
        readonly Dictionary<string, Transfer> transfers = new Dictionary<string, Transfer>(); // by file name (RUDP-10)
        readonly object gate = new object(); // Close may come from a signal's thread

        public Receiver(string directory = ".", double timeout = 10, bool sack = false, Action<string> log = null)
        {
            this.directory = directory;
            this.timeout = timeout;
            this.sack = sack;
            this.log = log;
        }

        void Log(Func<string> line)
        {
            if (log != null)
                log(line());
        }

        /// <summary>
        /// Handles one datagram from ip:port at time now (seconds) and returns
        /// the ack to send back, or null when nothing may be sent.
        /// </summary>
        public byte[] Handle(byte[] datagram, int length, string ip, int port, double now)
        {
            lock (gate)
                return HandleLocked(datagram, length, ip, port, now);
        }

        byte[] HandleLocked(byte[] datagram, int length, string ip, int port, double now)
        {
            string key = FileName(ip, port);
            try
            {
                Packet packet = Datagram.Parse(datagram, length);
                // RUDP-6: a receiver ignores acks (RUDP-8: and, below, all invalid datagrams).
                if (packet.IsAck)
                    return Drop(key, "an unexpected " + packet.Type);

                transfers.TryGetValue(key, out Transfer transfer);
                if (packet.Type == "start" && !IsRetransmittedStart(transfer, packet))
                    transfer = BeginTransfer(key, packet, now);
                // RUDP-11: a transfer begins with start; nothing else opens one.
                if (transfer == null)
                    return Drop(key, $"{packet.Type} {packet.Seqno}: no transfer");

                transfer.Accept(packet, now); // RUDP-17: a completed transfer still acks
                Log(() => $"{key}: {packet.Type} {packet.Seqno}, next expected {transfer.Expected}");
                return transfer.Ack(sack);
            }
            catch (MalformedDatagramException e)
            {
                return Drop(key, e.Message); // RUDP-8: silently, never acked
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException) // not writable, disk full...
            {
                Console.Error.WriteLine($"rudp-receiver: {key}: {e.Message}: transfer dropped");
                if (transfers.TryGetValue(key, out Transfer broken))
                {
                    broken.Abandon();
                    transfers.Remove(key);
                }
                return null;
            }
        }

        /// <summary>RUDP-15: forgets the transfers idle for the timeout, complete or not.</summary>
        public void Expire(double now)
        {
            lock (gate)
                ExpireLocked(now);
        }

        void ExpireLocked(double now)
        {
            foreach (var entry in transfers.Where(e => now - e.Value.LastHeard >= timeout).ToList())
            {
                if (!entry.Value.Complete)
                    Log(() => $"{entry.Key}: idle for {timeout} s, dropped");
                entry.Value.Abandon();
                transfers.Remove(entry.Key);
            }
        }

        /// <summary>Closes the files of unfinished transfers; their .partial files stay.</summary>
        public void Close()
        {
            lock (gate)
            {
                foreach (var transfer in transfers.Values)
                    transfer.Abandon();
                transfers.Clear();
            }
        }

        /// <summary>
        /// Serves the socket until the process is stopped: one thread and one
        /// socket for every sender at once.
        /// </summary>
        public void Run(Socket socket)
        {
            // A buffer larger than MaxSize, so that a longer datagram is seen
            // whole, and dropped, rather than cut and taken for a valid one (RUDP-2).
            var buffer = new byte[65536];
            while (true)
            {
                if (socket.Poll((int)(SweepInterval * 1e6), SelectMode.SelectRead))
                    ServeOne(socket, buffer);
                Expire(Clock.Now);
            }
        }

        void ServeOne(Socket socket, byte[] buffer)
        {
            EndPoint from = new IPEndPoint(socket.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
            try
            {
                int n = socket.ReceiveFrom(buffer, ref from);
                var source = (IPEndPoint)from;
                byte[] ack = Handle(buffer, n, IpText(source.Address), source.Port, Clock.Now);
                if (ack != null)
                    socket.SendTo(ack, from);
            }
            catch (SocketException e) // e.g. the sender's host is unreachable right now
            {
                Log(() => $"{from}: {e.Message}");
            }
        }

        /// <summary>
        /// An address as text; a dual-stack socket sees IPv4 peers as
        /// ::ffff:a.b.c.d, which we give in their IPv4 form.
        /// </summary>
        public static string IpText(IPAddress address) =>
            (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).ToString();

        /// <summary>
        /// ip.port, as the course's receiver names its files (RUDP-16), with the
        /// ':' of IPv6 addresses replaced (2001_db8__1.6000), as the reference does.
        /// </summary>
        public static string FileName(string ip, int port) => (ip + "." + port).Replace(':', '_');

        /// <summary>
        /// A UDP socket bound to the port on all addresses (RUDP-61): IPv6 and
        /// IPv4 together where the host allows, else IPv4 only.
        /// </summary>
        public static Socket Bind(int port)
        {
            Socket socket = null;
            try
            {
                socket = new Socket(AddressFamily.InterNetworkV6, SocketType.Dgram, ProtocolType.Udp) { DualMode = true };
                socket.Bind(new IPEndPoint(IPAddress.IPv6Any, port));
                return socket;
            }
            catch (SocketException) // no IPv6 in this kernel or container
            {
                socket?.Dispose();
                socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                socket.Bind(new IPEndPoint(IPAddress.Any, port));
                return socket;
            }
        }

        byte[] Drop(string key, string why)
        {
            Log(() => $"{key}: dropped {why}");
            return null;
        }

        // RUDP-18: a start with the current start's seqno and data repeats it;
        // any other start begins a new transfer.
        static bool IsRetransmittedStart(Transfer transfer, Packet start) =>
            transfer != null && transfer.Start.Seqno == start.Seqno && transfer.Start.Data.SequenceEqual(start.Data);

        Transfer BeginTransfer(string key, Packet start, double now)
        {
            if (transfers.TryGetValue(key, out Transfer old))
                old.Abandon();
            Log(() => $"{key}: new transfer from seqno {start.Seqno}");
            var transfer = new Transfer(Path.Combine(directory, key), start, now);
            transfers[key] = transfer;
            return transfer;
        }
    }
}
