using System.Diagnostics;

namespace Interop
{
    /// <summary>Seconds on a clock that never jumps: for timers and timeouts.</summary>
    public static class Clock
    {
        public static double Now => Stopwatch.GetTimestamp() / (double)Stopwatch.Frequency;
    }
}
