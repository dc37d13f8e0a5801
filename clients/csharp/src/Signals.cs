using System;
using System.Threading;
using Mono.Unix;
using Mono.Unix.Native;

namespace Interop
{
    /// <summary>
    /// SIGTERM and SIGINT end the servers with exit status 0 (MANIFEST-13,
    /// RUDP-61). This matters in a container: the program runs as PID 1 there,
    /// and the kernel ignores a signal that PID 1 does not handle, so without
    /// this the suite would wait for its SIGKILL.
    /// </summary>
    public static class Signals
    {
        public static void ExitOnTerminate(Action cleanup = null)
        {
            var signals = new[] { new UnixSignal(Signum.SIGTERM), new UnixSignal(Signum.SIGINT) };
            new Thread(() =>
            {
                UnixSignal.WaitAny(signals); // Mono.Posix's way: a thread that waits for the signal
                cleanup?.Invoke();
                Console.Out.Flush();
                Console.Error.Flush();
                // Environment.Exit would wait for the main thread, which sits in
                // a blocking Accept or Poll; nothing is left to clean up, so go now.
                Syscall._exit(0);
            }) { IsBackground = true }.Start();
        }
    }
}
