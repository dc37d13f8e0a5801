// A small test runner: Debian's Mono has no NUnit for our compiler version,
// and a few lines of reflection do the job. Every public static method marked
// [Test] runs once; the last line is "N passed, N failed", and the exit status
// is non-zero if any test failed, so a failing test fails `docker build`.
using System;
using System.Linq;
using System.Reflection;

namespace Interop.Tests
{
    [AttributeUsage(AttributeTargets.Method)]
    public sealed class TestAttribute : Attribute { }

    public sealed class AssertionException : Exception
    {
        public AssertionException(string message) : base(message) { }
    }

    public static class Assert
    {
        public static void That(bool condition, string message)
        {
            if (!condition)
                throw new AssertionException(message);
        }

        public static void Equal<T>(T expected, T actual, string what)
        {
            if (!Equals(expected, actual))
                throw new AssertionException($"{what}: expected {expected}, got {actual}");
        }

        public static void Bytes(byte[] expected, byte[] actual, string what)
        {
            if (expected == null && actual == null)
                return;
            if (expected == null || actual == null || !expected.SequenceEqual(actual))
                throw new AssertionException($"{what}: expected {Show(expected)}, got {Show(actual)}");
        }

        public static T Throws<T>(Action action, string what) where T : Exception
        {
            try
            {
                action();
            }
            catch (T e)
            {
                return e;
            }
            throw new AssertionException($"{what}: no {typeof(T).Name}");
        }

        /// <summary>Bytes as the vectors' "escaped" form, for messages.</summary>
        public static string Show(byte[] bytes)
        {
            if (bytes == null)
                return "null";
            var text = string.Concat(bytes.Take(80).Select(b =>
                b == '\\' ? "\\\\" : b >= 0x20 && b < 0x7f ? ((char)b).ToString() : $"\\x{b:x2}"));
            return "\"" + text + (bytes.Length > 80 ? "..." : "") + "\"";
        }
    }

    static class TestRunner
    {
        static int Main(string[] args)
        {
            var tests = typeof(TestRunner).Assembly.GetTypes()
                .SelectMany(type => type.GetMethods(BindingFlags.Public | BindingFlags.Static))
                .Where(method => method.GetCustomAttributes(typeof(TestAttribute), false).Length > 0)
                .Where(method => args.Length == 0 || args.Any(a => (method.DeclaringType.Name + "." + method.Name).Contains(a)))
                .OrderBy(method => method.DeclaringType.Name).ThenBy(method => method.Name);
            int passed = 0, failed = 0;
            foreach (MethodInfo test in tests)
            {
                string name = test.DeclaringType.Name + "." + test.Name;
                var watch = System.Diagnostics.Stopwatch.StartNew();
                try
                {
                    test.Invoke(null, null);
                    passed++;
                    Console.WriteLine($"ok    {name} ({watch.ElapsedMilliseconds} ms)");
                }
                catch (TargetInvocationException e)
                {
                    failed++;
                    Console.WriteLine($"FAIL  {name}: {e.InnerException.Message}");
                    if (!(e.InnerException is AssertionException))
                        Console.WriteLine(e.InnerException.StackTrace);
                }
            }
            Console.WriteLine($"{passed} passed, {failed} failed");
            return failed == 0 ? 0 : 1;
        }
    }
}
