using System;
using System.Linq;
using System.Net;
using System.Net.Sockets;

namespace Interop.Hello
{
    /// <summary>The client: connects, sends "Hello in C#", prints the reply (HELLO-5..8).</summary>
    public static class Client
    {
        const double HalfCloseDelay = 3.0; // HELLO-6: seconds to wait for a reply before half-closing

        sealed class FailureException : Exception
        {
            public FailureException(string message) : base(message) { }
        }

        /// <summary>Runs one exchange with host:port; returns the exit status.</summary>
        public static int Run(string host, int port)
        {
            try
            {
                Console.WriteLine(Message.Text(Exchange(host, port))); // HELLO-7: the reply alone on its line
                Console.Out.Flush();
                return 0;
            }
            catch (FailureException e)
            {
                Console.Error.WriteLine("hello client: " + e.Message); // HELLO-8
                return 1;
            }
        }

        // Returns the server's reply or throws FailureException saying what went wrong.
        static byte[] Exchange(string host, int port)
        {
            using (Socket socket = Connect(host, port, Clock.Now + Message.Timeout))
            {
                try
                {
                    socket.Send(Message.Line("Hello in " + Message.Language)); // HELLO-1, HELLO-3: one line, one write
                    // HELLO-8: give up 10 s after we started waiting for the reply
                    // (not counting the connect, which has its own limit).
                    double deadline = Clock.Now + Message.Timeout;
                    // HELLO-6: some servers answer only at the end of input. Give the
                    // others HalfCloseDelay with the connection fully open, then
                    // half-close: we can still read, and those servers get their EOF.
                    if (!socket.Poll((int)(HalfCloseDelay * 1e6), SelectMode.SelectRead))
                        socket.Shutdown(SocketShutdown.Send);
                    return Message.Read(socket, deadline)
                        ?? throw new FailureException($"{host} port {port} closed the connection without replying");
                }
                catch (NoMessageException)
                {
                    throw new FailureException($"no reply from {host} port {port} within {Message.Timeout:F0} s");
                }
                catch (SocketException e)
                {
                    throw new FailureException($"connection to {host} port {port} failed: {e.Message}");
                }
            }
        }

        // HELLO-5: resolves the host and tries each of its addresses in turn.
        static Socket Connect(string host, int port, double deadline)
        {
            IPAddress[] addresses;
            try
            {
                addresses = Dns.GetHostAddresses(host);
            }
            catch (SocketException e)
            {
                throw new FailureException($"could not resolve host {host}: {e.Message}");
            }
            var errors = new System.Collections.Generic.List<string>();
            // IPv4 first: the suite's networks are IPv4, and some servers listen on 0.0.0.0 only.
            foreach (IPAddress address in addresses.OrderBy(a => a.AddressFamily == AddressFamily.InterNetwork ? 0 : 1))
            {
                var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                string error = TryConnect(socket, new IPEndPoint(address, port), deadline);
                if (error == null)
                    return socket;
                errors.Add($"{error} ({address})");
                socket.Dispose();
            }
            if (errors.Count == 0)
                errors.Add("no address");
            throw new FailureException($"could not connect to {host} port {port}: {string.Join(", ", errors)}");
        }

        // Connects with a time limit: a non-blocking connect, then a wait until
        // the socket is writable. Returns null, or why it failed.
        static string TryConnect(Socket socket, IPEndPoint endPoint, double deadline)
        {
            socket.Blocking = false;
            try
            {
                socket.Connect(endPoint);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.WouldBlock || e.SocketErrorCode == SocketError.InProgress)
            {
                int micros = (int)(Math.Max(deadline - Clock.Now, 0.1) * 1e6);
                if (!socket.Poll(micros, SelectMode.SelectWrite) && !socket.Poll(0, SelectMode.SelectError))
                    return "timed out";
                var error = (SocketError)(int)socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Error);
                if (error != SocketError.Success)
                    return new SocketException((int)error).Message;
            }
            catch (SocketException e) // refused at once, unreachable...
            {
                return e.Message;
            }
            socket.Blocking = true;
            return null;
        }
    }
}
