// Test assembly for tests/unit/test_clrmeta.c (built by build.sh with Debian's mcs).
// Namespaces, nested classes (2 levels), generics, a struct, an enum, static fields and the type
// names of the dotnet leak scenario (DsLeak.Font, DsLeak.Bitmap, DsLeak.PrintJob).
using System;
using System.Collections.Generic;

[assembly: System.Reflection.AssemblyVersion("1.2.3.4")]

namespace DsLeak
{
    public class Font
    {
        public string Family;
        public float Size;
        public static int Created;
        private byte[] handle;
        public Font(string family, float size)
        {
            Family = family;
            Size = size;
            handle = new byte[64];
            Created++;
        }
    }

    public class Bitmap
    {
        public int Width, Height;
        public byte[] Pixels;
        public static List<Bitmap> Cache = new List<Bitmap>();
    }

    public class PrintJob
    {
        public string Name;
        public Font JobFont;
        public Bitmap Page;
        public static PrintJob Current;
        public JobState State;

        public class Spooler
        {
            public static int Pending;
            public Queue<PrintJob> Jobs;

            public class Slot
            {
                public long Offset;
                public static Slot Free;
            }
        }
    }

    public enum JobState
    {
        Queued,
        Printing,
        Done
    }

    public struct Point
    {
        public int X;
        public int Y;
        public static readonly Point Origin;
    }
}

namespace DsLeak.Generic
{
    public class Box<T>
    {
        public T Value;
        public static int Count;

        public class Inner<U>
        {
            public U Item;
            public T Outer;
        }
    }

    public class Pair<TKey, TValue>
    {
        public TKey Key;
        public TValue Value;
    }
}

public class NoNamespace
{
    public static NoNamespace Instance;
    public DsLeak.Generic.Box<string> Boxed;
    public DsLeak.Generic.Pair<int, DsLeak.Font> Pair;
    public DsLeak.Font[] Fonts;
    public int[,] Grid;
    public Dictionary<string, DsLeak.Bitmap> Map;
    public EventHandler Handler;

    public static void Main()
    {
        Instance = new NoNamespace();
        Instance.Fonts = new DsLeak.Font[] { new DsLeak.Font("Arial", 12f) };
        Console.WriteLine(Instance.Fonts.Length);
    }
}
