// RUDP sender (spec/rudp.md): sends a file, or standard input, to a receiver
// and exits 0 once the receiver has all of it (RUDP-45, RUDP-60).
//   mono rudp-sender.exe -a HOST -p PORT [-f FILE] [-k] [-d] [--give-up SECONDS] [--seqno N]
using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using Interop;
using Interop.Rudp;

static class SenderProgram
{
    const string Usage = "usage: rudp-sender.exe -a HOST -p PORT [-f FILE] [-k] [-d] [--give-up SECONDS] [--seqno N]";

    static int Main(string[] args)
    {
        string host = null, file = null;
        int port = 0;
        bool sack = false, debug = false;
        double giveUp = Sender.GiveUpAfter;
        // RUDP-3: a random start below 2^20 keeps every seqno, and the ack
        // after the last one, far below 2^64.
        ulong seqno = (ulong)new Random().Next(1 << 20);
        try
        {
            for (int i = 0; i < args.Length; i++)
            {
                switch (args[i])
                {
                    case "-a": host = args[++i]; break;
                    case "-p": port = int.Parse(args[++i], NumberStyles.None, CultureInfo.InvariantCulture); break;
                    case "-f": file = args[++i]; break;
                    case "-k": sack = true; break;
                    case "-d": debug = true; break;
                    case "--give-up": giveUp = double.Parse(args[++i], CultureInfo.InvariantCulture); break;
                    case "--seqno": seqno = ulong.Parse(args[++i], NumberStyles.None, CultureInfo.InvariantCulture); break;
                    default: throw new FormatException("unknown argument " + args[i]);
                }
            }
            if (host == null || port < 1 || port > 65535 || seqno > (1UL << 63))
                throw new FormatException("need -a HOST and -p PORT");
        }
        catch (Exception e) when (e is FormatException || e is OverflowException || e is IndexOutOfRangeException)
        {
            return Fail($"{e.Message}\n{Usage}", 2);
        }

        Socket socket;
        try
        {
            // Resolves host names too (RUDP-60); Connect makes the kernel deliver
            // us only the receiver's datagrams.
            IPAddress[] addresses = Dns.GetHostAddresses(host);
            IPAddress address = addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? addresses.First();
            socket = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
            socket.Connect(new IPEndPoint(address, port));
        }
        catch (Exception e) when (e is SocketException || e is InvalidOperationException)
        {
            return Fail($"cannot reach {host} port {port}: {e.Message}");
        }

        Stream input;
        try
        {
            input = file == null ? Console.OpenStandardInput() : File.OpenRead(file);
        }
        catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
        {
            return Fail($"cannot open {file}: {e.Message}");
        }

        double started = Clock.Now;
        Action<string> log = null;
        if (debug)
            log = line => Console.Error.WriteLine($"sender {Clock.Now - started,8:F3} {line}");
        try
        {
            using (input)
            using (socket)
                new Sender(socket, input, seqno, sack, giveUp, log).Run();
            return 0;
        }
        catch (GiveUpException e)
        {
            return Fail($"giving up on {host} port {port}: {e.Message}");
        }
        catch (IOException e) // reading the input failed
        {
            return Fail(e.Message);
        }
    }

    static int Fail(string message, int status = 1)
    {
        Console.Error.WriteLine("rudp-sender: " + message);
        return status;
    }
}
