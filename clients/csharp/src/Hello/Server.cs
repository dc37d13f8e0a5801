using System;
using System.Net;
using System.Net.Sockets;
using System.Threading;

namespace Interop.Hello
{
    /// <summary>The server: answers every client, concurrently, forever (HELLO-10..14).</summary>
    public sealed class Server
    {
        const double Linger = 2.0; // HELLO-12: how long to wait for the client's close after the reply

        readonly int port;
        readonly bool challenge;
        readonly object output = new object(); // keeps the lines of concurrent clients apart

        public Server(int port, bool challenge)
        {
            this.port = port;
            this.challenge = challenge;
        }

        /// <summary>Serves until the process is stopped. Throws SocketException when it cannot listen.</summary>
        public void Run()
        {
            Socket listener = Listen(port);
            Log($"listening on TCP port {((IPEndPoint)listener.LocalEndPoint).Port}"); // the real one, also for 0
            while (true) // HELLO-13: forever
            {
                Socket connection;
                try
                {
                    connection = listener.Accept();
                }
                catch (SocketException e) // e.g. out of file descriptors: try again soon
                {
                    Log("accept failed: " + e.Message);
                    Thread.Sleep(100);
                    continue;
                }
                // HELLO-14: a thread per connection, so that a silent client blocks nobody.
                new Thread(() => Serve(connection)) { IsBackground = true }.Start();
            }
        }

        // HELLO-10: every address, IPv6 and IPv4 together; IPv4 alone where IPv6 is off.
        static Socket Listen(int port)
        {
            Socket socket = null;
            try
            {
                socket = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp) { DualMode = true };
                socket.Bind(new IPEndPoint(IPAddress.IPv6Any, port));
            }
            catch (SocketException)
            {
                socket?.Dispose();
                socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                socket.Bind(new IPEndPoint(IPAddress.Any, port));
            }
            socket.Listen(64);
            return socket;
        }

        void Serve(Socket connection)
        {
            string ip = "?";
            try
            {
                IPAddress address = ((IPEndPoint)connection.RemoteEndPoint).Address;
                ip = (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).ToString(); // HELLO-21: IPv4 form
                byte[] message = Message.Read(connection, Clock.Now + Message.Timeout);
                if (message == null)
                {
                    Log(ip + ": closed without a message");
                    return;
                }
                lock (output) // HELLO-11: printed, and flushed, before the reply
                {
                    if (challenge)
                        Console.WriteLine(ip); // HELLO-21: the client's address, on its own line first
                    Console.WriteLine(Message.Text(message));
                    Console.Out.Flush();
                }
                string reply = challenge ? Message.ChallengeReply(message) : "Goodbye in " + Message.Language; // HELLO-4, HELLO-20
                connection.Send(Message.Line(reply));
                CloseGracefully(connection);
            }
            catch (Exception e) when (e is NoMessageException || e is SocketException || e is ObjectDisposedException)
            {
                Log($"{ip}: {e.Message}");
            }
            finally
            {
                connection.Dispose();
            }
        }

        // HELLO-12: half-close, then read until the client closes (at most
        // Linger). Closing with unread input would make the kernel reset the
        // connection, and a reset can destroy the reply before the client has read it.
        static void CloseGracefully(Socket connection)
        {
            connection.Shutdown(SocketShutdown.Send);
            double deadline = Clock.Now + Linger;
            var sink = new byte[4096];
            try
            {
                double wait;
                while ((wait = deadline - Clock.Now) > 0 && connection.Poll((int)(wait * 1e6), SelectMode.SelectRead))
                {
                    if (connection.Receive(sink) == 0)
                        break; // the client closed
                }
            }
            catch (SocketException)
            {
                // the client is gone: nothing more to do
            }
        }

        static void Log(string message) => Console.Error.WriteLine("hello server: " + message);
    }
}
