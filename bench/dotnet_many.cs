// bench/dotnet_many.cs - the managed heap for bench/clr.sh: N (default 20,000,000) instances of a
// 24-byte class (x64: header + MethodTable + one long) kept alive in Small[] chunks of 1 Mi
// elements (each chunk an 8 MB array in the LOH), then GC.Collect(), "READY <n>" and sleep.
// Build: mcs -optimize+ -out:dotnet_many.dll dotnet_many.cs ; run: dotnet dotnet_many.dll [N]
using System;
using System.Threading;

namespace DsBench
{
    class Small
    {
        public long A;
    }

    static class App
    {
        static Small[][] Keep;

        static void Main(string[] args)
        {
            long n = args.Length > 0 ? long.Parse(args[0]) : 20000000;
            const int Chunk = 1 << 20;
            int chunks = (int)((n + Chunk - 1) / Chunk);
            Keep = new Small[chunks][];
            long made = 0;
            for (int c = 0; c < chunks; c++) {
                int len = (int)Math.Min(Chunk, n - made);
                Small[] a = new Small[len];
                for (int i = 0; i < len; i++)
                    a[i] = new Small { A = made + i };
                Keep[c] = a;
                made += len;
            }
            GC.Collect();
            Console.WriteLine("READY " + made);
            Console.Out.Flush();
            Thread.Sleep(Timeout.Infinite);
        }
    }
}
