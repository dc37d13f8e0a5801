using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using Interop.Hello;
using Interop.Rudp;

namespace Interop.Tests
{
    public static class CodecTests
    {
        static byte[] Ascii(string s) => Encoding.ASCII.GetBytes(s);

        [Test]
        public static void Crc32CheckValue() =>
            Assert.Equal(3421780262u, Crc32.Compute(Ascii("123456789")), "CRC-32 of 123456789");

        // The worked examples of RUDP-4 and RUDP-5.
        [Test]
        public static void WorkedExamples()
        {
            Assert.Bytes(Ascii("start|0|hello|1374653333"), Datagram.Encode("start", 0, Ascii("hello")), "start");
            Assert.Bytes(Ascii("ack|1|2195368786"), Datagram.EncodeAck(1), "ack above 2^31 prints unsigned");
            Assert.Bytes(Ascii("sack|3;5,6|2211952226"), Datagram.EncodeAck(3, new ulong[] { 5, 6 }), "sack");
            Packet packet = Datagram.Parse(Ascii("data|7|a|b|3661478912"));
            Assert.Bytes(Ascii("a|b"), packet.Data, "data keeps its pipe");
        }

        [Test]
        public static void BinaryDataRoundTrips()
        {
            var data = Enumerable.Range(0, 256).Select(i => (byte)i).Concat(Ascii("|end|5||")).ToArray();
            Packet packet = Datagram.Parse(Datagram.Encode("data", 18446744073709551614, data));
            Assert.Bytes(data, packet.Data, "data");
            Assert.Equal(18446744073709551614, packet.Seqno, "seqno");
        }

        [Test]
        public static void FullPayloadFitsInADatagram()
        {
            foreach (ulong seqno in new ulong[] { 0, 9, 10, 123456, ulong.MaxValue - 1 })
            {
                int size = Datagram.MaxPayload("start", seqno);
                byte[] datagram = Datagram.Encode("start", seqno, new byte[size]);
                Assert.That(datagram.Length <= Datagram.MaxSize && datagram.Length >= Datagram.MaxSize - 9,
                    $"seqno {seqno}: {datagram.Length} bytes");
            }
        }
    }

    public static class PacketizerTests
    {
        static List<Packet> Split(int size, ulong first = 7)
        {
            var input = new MemoryStream(Enumerable.Range(0, size).Select(i => (byte)(i * 31)).ToArray());
            var packetizer = new Packetizer(input, first);
            var packets = new List<Packet>();
            while (packetizer.Next(out ulong seqno, out byte[] datagram, out bool isEnd))
            {
                Packet packet = Datagram.Parse(datagram);
                Assert.Equal(seqno, packet.Seqno, "seqno");
                Assert.Equal(packet.Type == "end", isEnd, "isEnd");
                packets.Add(packet);
            }
            return packets;
        }

        static string Types(List<Packet> packets) => string.Join(" ", packets.Select(p => p.Type));

        // RUDP-7: the reference's split, which the spec recommends.
        [Test]
        public static void EmptyFile() => Assert.Equal("start end", Types(Split(0)), "types");

        [Test]
        public static void OnePacketFile()
        {
            var packets = Split(100);
            Assert.Equal("start end", Types(packets), "types");
            Assert.Equal(100, packets[0].Data.Length, "start carries the file");
            Assert.Equal(0, packets[1].Data.Length, "end is empty");
        }

        [Test]
        public static void LargerFile()
        {
            var packets = Split(65536);
            Assert.Equal("start", packets[0].Type, "first");
            Assert.Equal("end", packets.Last().Type, "last");
            Assert.That(packets.Skip(1).Take(packets.Count - 2).All(p => p.Type == "data"), "data in between");
            Assert.That(packets.Last().Data.Length > 0, "end carries the last piece");
            Assert.That(packets.Take(packets.Count - 1).All(p => p.Data.Length >= 1400), "full datagrams (RUDP-46)");
            Assert.Equal(65536, packets.Sum(p => p.Data.Length), "all bytes");
            Assert.That(packets.Select((p, i) => p.Seqno == 7 + (ulong)i).All(ok => ok), "consecutive seqnos");
        }
    }

    public static class RttTests
    {
        [Test]
        public static void StartsAt500Ms() => Assert.Equal(0.5, new RttEstimator().Rto, "initial RTO (RUDP-41)");

        [Test]
        public static void FollowsRfc6298WithinLimits()
        {
            var rtt = new RttEstimator();
            rtt.Sample(0.1); // SRTT 0.1, RTTVAR 0.05: RTO 0.3
            Assert.That(Math.Abs(rtt.Rto - 0.3) < 1e-9, $"first sample: {rtt.Rto}");
            for (int i = 0; i < 50; i++)
                rtt.Sample(0.001);
            Assert.Equal(RttEstimator.Min, rtt.Rto, "floor");
            rtt.BackOff();
            rtt.BackOff();
            rtt.BackOff();
            Assert.Equal(RttEstimator.Max, rtt.Rto, "backoff cap");
            rtt.Reset();
            Assert.Equal(RttEstimator.Min, rtt.Rto, "progress ends the backoff");
        }
    }

    public static class HelloTests
    {
        static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

        // The examples of HELLO-20.
        [Test]
        public static void ChallengeReplies()
        {
            Assert.Equal("Goodbye Go from C#", Message.ChallengeReply(Utf8("Hello in Go")), "plain");
            Assert.Equal("Goodbye Objective C from C#", Message.ChallengeReply(Utf8("Hello in Objective  C\r\n")), "runs of whitespace");
            Assert.Equal("Goodbye rust from C#", Message.ChallengeReply(Utf8("hello in rust")), "letter case");
            Assert.Equal("Goodbye Hi from Ruby from C#", Message.ChallengeReply(Utf8("Hi from Ruby")), "no Hello in");
            Assert.Equal("Goodbye from C#", Message.ChallengeReply(Utf8(" \0\t")), "empty");
            Assert.Equal("Goodbye Hello in from C#", Message.ChallengeReply(Utf8("Hello in")), "two words only");
        }

        [Test]
        public static void TextTrimsWhitespaceAndNul() =>
            Assert.Equal("Hello in C", Message.Text(Utf8("\0 Hello in C\r\0\0")), "HELLO-15");

        // HELLO-2 on a real connection: a message ends at "\n" or at the close,
        // never at the end of one read.
        [Test]
        public static void ReadsLineOrUntilClose()
        {
            Assert.Equal("Hello in Go", Exchange(Utf8("Hel"), Utf8("lo in Go\nrest")), "newline");
            Assert.Equal("Hello in Go", Exchange(Utf8("Hello "), Utf8("in Go")), "close");
        }

        static string Exchange(byte[] part1, byte[] part2)
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            try
            {
                var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                client.Connect(listener.LocalEndpoint);
                using (Socket server = listener.AcceptSocket())
                using (client)
                {
                    client.Send(part1);
                    Thread.Sleep(50);
                    client.Send(part2);
                    client.Shutdown(SocketShutdown.Send);
                    return Message.Text(Message.Read(server, Clock.Now + 5));
                }
            }
            finally
            {
                listener.Stop();
            }
        }
    }

    // The sender against the receiver on loopback, through a relay that drops,
    // duplicates and reorders datagrams. It checks only the outcome (the file
    // arrives whole), never how long it took: the build machine may be busy.
    public static class TransferTests
    {
        [Test]
        public static void LossyTransfer() => Transfer(150 * 1024, sack: false, seed: 1);

        [Test]
        public static void LossyTransferWithSack() => Transfer(150 * 1024, sack: true, seed: 2);

        [Test]
        public static void EmptyTransfer() => Transfer(0, sack: false, seed: 3);

        static void Transfer(int size, bool sack, int seed)
        {
            var random = new Random(seed);
            var data = new byte[size];
            random.NextBytes(data);
            string dir = TempDir.Create();
            var receiverSocket = Receiver.Bind(0);
            int receiverPort = ((IPEndPoint)receiverSocket.LocalEndPoint).Port;
            var receiver = new Receiver(dir, 10, sack);
            var receiverThread = new Thread(() => RunUntilClosed(receiver, receiverSocket)) { IsBackground = true };
            receiverThread.Start();
            using (var relay = new LossyRelay(new IPEndPoint(IPAddress.Loopback, receiverPort), seed))
            using (var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp))
            {
                socket.Connect(relay.EndPoint);
                new Sender(socket, new MemoryStream(data), (ulong)random.Next(1000), sack, giveUp: 30).Run();
            }
            receiverSocket.Close();
            receiverThread.Join();
            try
            {
                var files = Directory.GetFiles(dir).Where(f => !f.EndsWith(".partial")).ToList();
                Assert.Equal(1, files.Count, "complete files");
                Assert.That(File.ReadAllBytes(files[0]).SequenceEqual(data), "the file arrived whole");
            }
            finally
            {
                Directory.Delete(dir, true);
            }
        }

        static void RunUntilClosed(Receiver receiver, Socket socket)
        {
            try
            {
                receiver.Run(socket);
            }
            catch (Exception e) when (e is ObjectDisposedException || e is SocketException)
            {
                // the test closed the socket
            }
        }
    }

    /// <summary>
    /// Forwards datagrams between one client and a server, dropping 15 %,
    /// duplicating 5 % and holding 5 % back until the next one (reordering),
    /// in both directions, from a seeded random generator.
    /// </summary>
    sealed class LossyRelay : IDisposable
    {
        readonly Socket socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        readonly IPEndPoint server;
        readonly Random random;
        readonly Thread thread;
        volatile bool stopped;

        public LossyRelay(IPEndPoint server, int seed)
        {
            this.server = server;
            random = new Random(seed);
            socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            thread = new Thread(Run) { IsBackground = true };
            thread.Start();
        }

        public EndPoint EndPoint => socket.LocalEndPoint;

        void Run()
        {
            var buffer = new byte[65536];
            EndPoint client = null;
            byte[] held = null;
            EndPoint heldTo = null;
            while (!stopped)
            {
                if (!socket.Poll(100000, SelectMode.SelectRead))
                    continue;
                EndPoint from = new IPEndPoint(IPAddress.Any, 0);
                int n;
                try
                {
                    n = socket.ReceiveFrom(buffer, ref from);
                }
                catch (SocketException)
                {
                    continue;
                }
                bool fromServer = from.Equals(server);
                if (!fromServer)
                    client = from;
                EndPoint to = fromServer ? client : server;
                if (to == null)
                    continue;
                byte[] datagram = buffer.Take(n).ToArray();
                double roll = random.NextDouble();
                if (roll < 0.15)
                    continue; // lost
                if (roll < 0.20 && held == null)
                {
                    held = datagram; // overtaken by the next one
                    heldTo = to;
                    continue;
                }
                socket.SendTo(datagram, to);
                if (roll < 0.25)
                    socket.SendTo(datagram, to); // duplicated
                if (held != null)
                {
                    socket.SendTo(held, heldTo);
                    held = null;
                }
            }
        }

        public void Dispose()
        {
            stopped = true;
            thread.Join();
            socket.Close();
        }
    }
}
