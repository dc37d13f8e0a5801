// Hello Internet over TCP (spec/hello.md), both roles, in the course's
// argument order (HELLO-30):
//   mono hello.exe client HOST PORT
//   mono hello.exe server PORT [--challenge]
using System;
using System.Linq;
using System.Net.Sockets;
using System.Text;
using Interop;
using Interop.Hello;

static class HelloProgram
{
    const string Usage = "usage: hello.exe client HOST PORT\n       hello.exe server PORT [--challenge]";

    static int Main(string[] args)
    {
        // Messages are UTF-8 (HELLO-1), whatever the locale: print them so too.
        Console.OutputEncoding = new UTF8Encoding(false);
        bool challenge = args.Contains("--challenge");
        string[] rest = args.Where(a => a != "--challenge").ToArray();
        int port;
        if (rest.Length == 3 && rest[0] == "client" && ParsePort(rest[2], out port))
            return Client.Run(rest[1], port);
        if (rest.Length == 2 && rest[0] == "server" && ParsePort(rest[1], out port))
        {
            Signals.ExitOnTerminate(); // stopped with SIGTERM (SIGINT at a terminal): exit 0
            try
            {
                new Server(port, challenge).Run();
            }
            catch (SocketException e)
            {
                Console.Error.WriteLine($"hello server: cannot listen on TCP port {port}: {e.Message}");
                return 1;
            }
        }
        Console.Error.WriteLine(Usage);
        return 2;
    }

    static bool ParsePort(string text, out int port) =>
        int.TryParse(text, System.Globalization.NumberStyles.None, null, out port) && port <= 65535;
}
