using System.Reflection;
using L2OEvolve.Torch.Teachers;
using static TorchSharp.torch;

namespace L2OEvolve.Torch.Tests.Teachers;

public class ActivationPoolTests
{
    private static unsafe IntPtr Address(Tensor t) => (IntPtr)FusedLstmCell.Ptr(t);

    [Test]
    public void Rent_AfterItsTensorIsFreed_HandsOutTheSameBlockAgain()
    {
        using var pool = new ActivationPool();
        var first = pool.Rent(300, 20)!;
        Assert.That(first.shape, Is.EqualTo(new long[] { 300, 20 }));
        Assert.That(first.dtype, Is.EqualTo(ScalarType.Float32));
        first.fill_(1.5f);
        Assert.That(first.sum().item<float>(), Is.EqualTo(9000f));
        var address = Address(first);
        Assert.That(pool.InUse, Is.EqualTo(1));
        first.Dispose();
        Assert.That(pool.InUse, Is.EqualTo(0));
        using var second = pool.Rent(300, 20)!;
        Assert.That(Address(second), Is.EqualTo(address));
        Assert.That(pool.Blocks, Is.EqualTo(1));
    }

    [Test]
    public void TheNativeEntryItCalls_HasTheParametersTorchSharpDeclares()
    {
        // The pool calls LibTorchSharp's THSTensor_new through a function pointer of its own, which nothing checks
        // at run time; TorchSharp's P/Invoke declaration of that entry is the reference, so an upgrade that changes
        // its parameters fails here instead of corrupting memory.
        var declared = typeof(TorchSharp.torch).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            .Single(m => m.Name == "THSTensor_new");
        var types = declared.GetParameters().Select(p => p.ParameterType).ToArray();
        static bool PointerSized(Type t) => t == typeof(IntPtr) || t.IsPointer || typeof(Delegate).IsAssignableFrom(t);
        Assert.That(types, Has.Length.EqualTo(9), string.Join(", ", types.Select(t => t.Name)));
        Assert.That(new[] { types[0], types[1], types[2] }.All(PointerSized), Is.True, "data, deleter, dimensions");
        Assert.That(types[3..8], Is.EqualTo(new[] { typeof(int), typeof(sbyte), typeof(sbyte), typeof(int), typeof(int) }),
            "ndims, source type, dtype, device type, device index");
        Assert.That(types[8] == typeof(bool) || types[8] == typeof(byte), Is.True, "requires_grad");
        Assert.That(declared.ReturnType, Is.EqualTo(typeof(IntPtr)));
    }

    [Test]
    public void Rent_WhileABlockIsInUseOrOfAnotherSize_AllocatesANewOne()
    {
        using var pool = new ActivationPool();
        using var a = pool.Rent(300, 20)!;
        using var b = pool.Rent(300, 20)!;
        using var c = pool.Rent(300)!;
        Assert.That(new[] { Address(a), Address(b), Address(c) }, Is.Unique);
        Assert.That(pool.Blocks, Is.EqualTo(3));
        Assert.That(pool.Bytes, Is.EqualTo(4L * (300 * 20 * 2 + 300)));
    }

    [Test]
    public void Dispose_WithTensorsStillAlive_LeavesThemUsableUntilTheyGo()
    {
        var pool = new ActivationPool();
        var t = pool.Rent(64, 8)!;
        t.fill_(2f);
        pool.Dispose();
        Assert.That(t.sum().item<float>(), Is.EqualTo(1024f));
        Assert.That(pool.InUse, Is.EqualTo(1));
        t.Dispose();
        Assert.That(pool.InUse, Is.EqualTo(0));
        Assert.That(pool.Blocks, Is.EqualTo(0), "released when its tensor went");
        Assert.Throws<ObjectDisposedException>(() => pool.Rent(4));
    }

    [Test]
    public void ReleaseFree_ReturnsOnlyTheBlocksNotInUse()
    {
        using var pool = new ActivationPool();
        using var kept = pool.Rent(100, 20)!;
        pool.Rent(300, 20)!.Dispose();
        Assert.That(pool.Blocks, Is.EqualTo(2));
        pool.ReleaseFree();
        Assert.That(pool.Blocks, Is.EqualTo(1));
        Assert.That(pool.Bytes, Is.EqualTo(4L * 100 * 20));
        kept.fill_(1f);
        Assert.That(kept.sum().item<float>(), Is.EqualTo(2000f), "the block in use is untouched");
    }

    [Test]
    public void Rent_ViewsOfABlock_KeepItUntilTheLastOneGoes()
    {
        using var pool = new ActivationPool();
        var t = pool.Rent(10, 4)!;
        var view = t.narrow(1, 1, 2);
        t.Dispose();
        Assert.That(pool.InUse, Is.EqualTo(1), "the view still holds the block");
        view.Dispose();
        Assert.That(pool.InUse, Is.EqualTo(0));
    }
}
