using System.Runtime.InteropServices;
using L2OEvolve.Torch.Teachers;

namespace L2OEvolve.Torch.Tests.Teachers;

public class NativeHeapTests
{
    [Test]
    public unsafe void Populate_KeepsWhatTheMemoryHolds_AndTheMemoryStaysWritable()
    {
        // Populating only maps pages in: a block that reuses written memory must keep its contents, whether the
        // range starts and ends on page boundaries or not.
        const int count = 5 * 4096 / sizeof(float) + 37;
        var p = (float*)NativeMemory.AlignedAlloc(count * sizeof(float), 64);
        try
        {
            for (int i = 0; i < count; i++) p[i] = i * 0.5f;
            NativeHeap.Populate((IntPtr)(p + 3), (count - 3) * sizeof(float));
            NativeHeap.Populate((IntPtr)p, 100);   // less than a page: nothing to map
            for (int i = 0; i < count; i++) Assert.That(p[i], Is.EqualTo(i * 0.5f), $"element {i}");
            for (int i = 0; i < count; i++) p[i] = -i;
            Assert.That(p[count - 1], Is.EqualTo(-(count - 1)));
        }
        finally { NativeMemory.AlignedFree(p); }
    }
}
