using L2OEvolve.Engine.Random;

namespace L2OEvolve.Engine.Tests.Random;

public class RngTests
{
    [Test]
    public void State_RestoredGenerator_ContinuesWithTheSameDraws()
    {
        var a = new Rng(42);
        for (int i = 0; i < 10; i++) a.NextUInt64();
        var b = new Rng(a.State);
        for (int i = 0; i < 100; i++) Assert.That(b.NextUInt64(), Is.EqualTo(a.NextUInt64()));
    }

    [Test]
    public void Fork_DoesNotAdvanceParent_AndStreamsDiffer()
    {
        var a = new Rng(7);
        var before = a.State;
        var c1 = a.Fork(1);
        var c2 = a.Fork(2);
        Assert.That(a.State, Is.EqualTo(before));
        Assert.That(c1.NextUInt64(), Is.Not.EqualTo(c2.NextUInt64()));
        Assert.That(a.Fork(1).NextUInt64(), Is.EqualTo(new Rng(7).Fork(1).NextUInt64()));
    }

    [Test]
    public void NextInt_StaysInRange_AndCoversIt()
    {
        var r = new Rng(1);
        var seen = new bool[7];
        for (int i = 0; i < 1000; i++)
        {
            int k = r.NextInt(7);
            Assert.That(k, Is.InRange(0, 6));
            seen[k] = true;
        }
        Assert.That(seen, Is.All.True);
    }
}
