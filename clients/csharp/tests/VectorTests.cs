// The spec's language-neutral vectors (spec/vectors/README.md), copied into
// tests/vectors because the image's build context is this folder only.
using System;
using System.Collections.Generic;
using System.IO;
using System.Json;
using System.Linq;
using Interop.Rudp;

namespace Interop.Tests
{
    public static class VectorTests
    {
        static readonly string Dir = Path.Combine(AppDomain.CurrentDomain.BaseDirectory, "vectors");

        static IEnumerable<JsonValue> Vectors(string file) =>
            ((JsonArray)JsonValue.Parse(File.ReadAllText(Path.Combine(Dir, file)))["vectors"]).ToList();

        static byte[] Bytes(JsonValue byteString) => Convert.FromBase64String((string)byteString["base64"]);

        static readonly Dictionary<string, DatagramError> ErrorClasses = new Dictionary<string, DatagramError>
        {
            ["too_long"] = DatagramError.TooLong,
            ["malformed"] = DatagramError.Malformed,
            ["checksum"] = DatagramError.Checksum,
            ["type"] = DatagramError.Type,
            ["seqno"] = DatagramError.Seqno,
            ["sack"] = DatagramError.Sack,
        };

        [Test]
        public static void Datagrams()
        {
            int count = 0;
            foreach (JsonValue vector in Vectors("datagrams.json"))
            {
                string name = vector["name"];
                byte[] datagram = Bytes(vector["datagram"]);
                if ((bool)vector["valid"])
                {
                    Packet packet = Datagram.Parse(datagram);
                    JsonValue expected = vector["packet"];
                    Assert.Equal((string)expected["type"], packet.Type, name + ": type");
                    Assert.Equal(ulong.Parse(expected["seqno"]), packet.Seqno, name + ": seqno");
                    if (expected.ContainsKey("data"))
                        Assert.Bytes(Bytes(expected["data"]), packet.Data, name + ": data");
                    var sacks = expected.ContainsKey("sacks")
                        ? ((JsonArray)expected["sacks"]).Select(s => ulong.Parse(s)).ToList()
                        : new List<ulong>();
                    Assert.That(sacks.SequenceEqual(packet.Sacks), name + ": sacks");
                    if (vector.ContainsKey("canonical") && (bool)vector["canonical"])
                        Assert.Bytes(datagram, Encode(packet), name + ": encoding");
                }
                else
                {
                    var e = Assert.Throws<MalformedDatagramException>(() => Datagram.Parse(datagram), name);
                    Assert.Equal(ErrorClasses[vector["error"]], e.Error, name + ": error class");
                }
                count++;
            }
            Assert.That(count > 40, "datagrams.json has its vectors");
        }

        static byte[] Encode(Packet packet)
        {
            switch (packet.Type)
            {
                case "ack": return Datagram.EncodeAck(packet.Seqno);
                case "sack": return Datagram.EncodeAck(packet.Seqno, packet.Sacks);
                default: return Datagram.Encode(packet.Type, packet.Seqno, packet.Data);
            }
        }

        // Each script runs against the receiver's logic with a fake clock and a
        // fresh output directory: the exact ack after every datagram, and the
        // files left behind (names as the reference's, since ours are the same).
        [Test]
        public static void ReceiverScripts()
        {
            int count = 0;
            foreach (JsonValue script in Vectors("receiver.json"))
            {
                string name = script["name"];
                string dir = TempDir.Create();
                try
                {
                    var receiver = new Receiver(dir, (int)script["idle_timeout_ms"] / 1000.0, (bool)script["sack"]);
                    int step = 0;
                    foreach (JsonValue s in (JsonArray)script["steps"])
                    {
                        double now = (int)s["at_ms"] / 1000.0;
                        receiver.Expire(now);
                        SplitAddress(s["from"], out string ip, out int port);
                        byte[] datagram = Bytes(s["datagram"]);
                        byte[] ack = receiver.Handle(datagram, datagram.Length, ip, port, now);
                        byte[] expected = s["ack"] == null ? null : Bytes(s["ack"]);
                        Assert.Bytes(expected, ack, $"{name}: step {step} ({s["datagram"]["escaped"]})");
                        step++;
                    }
                    receiver.Close();
                    var files = ((JsonArray)script["files"]).ToDictionary(f => (string)f["name"], f => Bytes(f["content"]));
                    var names = Directory.GetFiles(dir).Select(Path.GetFileName).OrderBy(n => n, StringComparer.Ordinal);
                    Assert.Equal(string.Join(" ", files.Keys.OrderBy(n => n, StringComparer.Ordinal)), string.Join(" ", names), name + ": files");
                    foreach (var file in files)
                        Assert.Bytes(file.Value, File.ReadAllBytes(Path.Combine(dir, file.Key)), $"{name}: {file.Key}");
                }
                finally
                {
                    Directory.Delete(dir, true);
                }
                count++;
            }
            Assert.That(count > 15, "receiver.json has its scripts");
        }

        // "10.0.0.1:5000" or "[2001:db8::1]:6000"
        static void SplitAddress(string from, out string ip, out int port)
        {
            int colon = from.LastIndexOf(':');
            ip = from.Substring(0, colon).Trim('[', ']');
            port = int.Parse(from.Substring(colon + 1));
        }
    }

    static class TempDir
    {
        public static string Create()
        {
            string dir = Path.Combine(Path.GetTempPath(), "rudp-test-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(dir);
            return dir;
        }
    }
}
