// RUDP receiver (spec/rudp.md): receives files from any number of senders at
// once into the current directory (or -o DIR), until stopped (RUDP-61).
//   mono rudp-receiver.exe [-p PORT] [-t TIMEOUT_SECONDS] [-k] [-d] [-o DIR]
using System;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Interop;
using Interop.Rudp;

static class ReceiverProgram
{
    const string Usage = "usage: rudp-receiver.exe [-p PORT] [-t TIMEOUT_SECONDS] [-k] [-d] [-o DIR]";

    static int Main(string[] args)
    {
        int port = Receiver.DefaultPort;
        double timeout = 10;
        bool sack = false, debug = false;
        string directory = ".";
        try
        {
            for (int i = 0; i < args.Length; i++)
            {
                switch (args[i])
                {
                    case "-p": port = int.Parse(args[++i], NumberStyles.None, CultureInfo.InvariantCulture); break;
                    case "-t": timeout = double.Parse(args[++i], NumberStyles.Float, CultureInfo.InvariantCulture); break;
                    case "-k": sack = true; break;
                    case "-d": debug = true; break;
                    case "-o": directory = args[++i]; break;
                    default: throw new FormatException("unknown argument " + args[i]);
                }
            }
            if (port > 65535 || timeout <= 0)
                throw new FormatException("bad port or timeout");
        }
        catch (Exception e) when (e is FormatException || e is OverflowException || e is IndexOutOfRangeException)
        {
            Console.Error.WriteLine($"rudp-receiver: {e.Message}\n{Usage}");
            return 2;
        }

        Socket socket;
        try
        {
            socket = Receiver.Bind(port);
        }
        catch (SocketException e)
        {
            Console.Error.WriteLine($"rudp-receiver: cannot listen on UDP port {port}: {e.Message}");
            return 1;
        }
        Console.Error.WriteLine($"rudp-receiver: listening on UDP port {((IPEndPoint)socket.LocalEndPoint).Port}");

        double started = Clock.Now;
        Action<string> log = null;
        if (debug)
            log = line => Console.Error.WriteLine($"receiver {Clock.Now - started,8:F3} {line}");
        var receiver = new Receiver(directory, timeout, sack, log);
        // Stopped with SIGTERM (SIGINT at a terminal): exit 0, closing the files
        // of unfinished transfers, which keep their .partial names (RUDP-15, RUDP-61).
        Signals.ExitOnTerminate(receiver.Close);
        receiver.Run(socket);
        return 0;
    }
}
