// Hello Internet over TCP (spec/hello.md): what the client and the server
// share. We send a message as one UTF-8 line ending in "\n" (HELLO-1), and
// receive leniently (HELLO-2): a message also ends when the peer closes its
// side, or when it has sent something and then stays quiet for a second,
// because some programs never send the newline.
using System;
using System.IO;
using System.Linq;
using System.Net.Sockets;
using System.Text;

namespace Interop.Hello
{
    /// <summary>Nothing arrived before the deadline.</summary>
    public sealed class NoMessageException : Exception
    {
        public NoMessageException(string message) : base(message) { }
    }

    public static class Message
    {
        public const string Language = "C#";
        public const double IdleGap = 1.0;      // HELLO-2: this long a pause after some bytes ends a message
        public const double Timeout = 10.0;     // the longest wait for a message (and a client's whole run)
        public const int MaxLength = 64 * 1024; // HELLO-2: longer messages are cut here

        /// <summary>One line for the wire: the text and exactly one "\n" (HELLO-1).</summary>
        public static byte[] Line(string text) => new UTF8Encoding(false).GetBytes(text + "\n");

        /// <summary>
        /// Reads one message leniently (HELLO-2): up to "\n", the peer's close
        /// or reset, or an idle gap of IdleGap after some bytes. Returns the
        /// bytes before the "\n", or null if the peer closed without sending
        /// anything; throws NoMessageException if nothing came by the deadline
        /// (a Clock value), which also ends a message still trickling in.
        /// </summary>
        public static byte[] Read(Socket socket, double deadline)
        {
            var data = new MemoryStream();
            var buffer = new byte[4096];
            try
            {
                while (Array.IndexOf(data.GetBuffer(), (byte)'\n', 0, (int)data.Length) < 0 && data.Length < MaxLength)
                {
                    double wait = deadline - Clock.Now;
                    if (data.Length > 0)
                        wait = Math.Min(wait, IdleGap);
                    if (wait <= 0 || !socket.Poll((int)(wait * 1e6), SelectMode.SelectRead))
                    {
                        if (data.Length == 0)
                            throw new NoMessageException($"nothing arrived within {Timeout:F0} s");
                        break; // the idle gap: a message without "\n"
                    }
                    int n = socket.Receive(buffer);
                    if (n == 0)
                        break; // the peer closed: what came before is intact
                    data.Write(buffer, 0, n);
                }
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
            {
                // A reset after some bytes also ends the message (HELLO-2).
            }
            return data.Length == 0 ? null : FirstLine(data.ToArray());
        }

        static byte[] FirstLine(byte[] data)
        {
            int newline = Array.IndexOf(data, (byte)'\n');
            int length = Math.Min(newline < 0 ? data.Length : newline, MaxLength);
            return data.Take(length).ToArray();
        }

        /// <summary>
        /// The text of a message: UTF-8, without surrounding whitespace such as
        /// "\r\n" or NUL bytes (HELLO-15).
        /// </summary>
        public static string Text(byte[] message)
        {
            string text = Encoding.UTF8.GetString(message);
            int start = 0, end = text.Length;
            while (start < end && IsBlank(text[start]))
                start++;
            while (end > start && IsBlank(text[end - 1]))
                end--;
            return text.Substring(start, end - start);
        }

        // HELLO-15: whitespace, and the NUL padding of C programs. (No Regex:
        // compiling one costs a program this short a noticeable part of its start.)
        static bool IsBlank(char c) => char.IsWhiteSpace(c) || c == '\0';

        /// <summary>
        /// HELLO-20: the challenge reply to a client's message, "Goodbye X from
        /// C#", where X is what follows "Hello in" (any letter case), or the
        /// whole message if it does not start so; runs of whitespace count as
        /// one space; an empty message gives "Goodbye from C#".
        /// </summary>
        public static string ChallengeReply(byte[] message)
        {
            string text = Text(message);
            var words = text.Replace('\0', ' ').Split((char[])null, StringSplitOptions.RemoveEmptyEntries);
            if (words.Length >= 3 && Is(words[0], "hello") && Is(words[1], "in"))
                words = words.Skip(2).ToArray();
            return string.Join(" ", new[] { "Goodbye" }.Concat(words).Concat(new[] { "from", Language }));
        }

        static bool Is(string word, string expected) => string.Equals(word, expected, StringComparison.OrdinalIgnoreCase);
    }
}
