using L2OEvolve.Cli.Jobs;
using TorchSharp;
using static TorchSharp.torch;

namespace L2OEvolve.Torch.Tests;

/// <summary>
/// No scalar reaches libtorch that only its finalizer owns (see <see cref="TorchScalars"/>): read from the IL of the
/// shipped assemblies, against the TorchSharp methods that make such a scalar themselves.
/// </summary>
public class TorchScalarsTests
{
    private const string ImplicitScalar = "TorchSharp.Scalar::op_Implicit(";

    // TorchSharp methods that convert a number to a Scalar inside (add(Tensor) passes alpha = 1, square() the exponent
    // 2, the operators on numbers their operand), directly or through other TorchSharp methods.
    private static readonly Lazy<HashSet<string>> MakeTheirOwnScalar = new(() =>
        IlCalls.Reaching(IlCalls.Read(typeof(torch).Assembly.Location), c => c.StartsWith(ImplicitScalar, StringComparison.Ordinal)));

    private static List<string> UnsafeCalls(string assemblyPath, Func<string, bool>? inMethod = null) =>
        [.. from kv in IlCalls.Read(assemblyPath)
            where inMethod is null || inMethod(kv.Key)
            from callee in kv.Value.Distinct()
            where callee.StartsWith(ImplicitScalar, StringComparison.Ordinal) || MakeTheirOwnScalar.Value.Contains(callee)
            select $"{kv.Key} calls {callee}"];

    [Test]
    public void TheTorchLibrary_NeverHandsLibtorchATemporaryScalar()
    {
        var found = UnsafeCalls(typeof(TorchScalars).Assembly.Location);
        Assert.That(found, Is.Empty, "use TorchScalars' helpers or a scalar made with ToScalar() and disposed after the call:\n" + string.Join("\n", found));
    }

    [Test]
    public void TheCli_NeverHandsLibtorchATemporaryScalar()
    {
        var found = UnsafeCalls(typeof(GuardedFitness).Assembly.Location);
        Assert.That(found, Is.Empty, string.Join("\n", found));
    }

    [Test]
    public void TheScan_FindsEachUnsafeForm()
    {
        // The forms this class's UnsafeForms uses; if the scan stopped seeing them, the two tests above would pass vacuously.
        var found = UnsafeCalls(typeof(TorchScalarsTests).Assembly.Location, m => m.Contains("::" + nameof(UnsafeForms) + "("));
        Assert.That(found, Has.Some.Contains("Tensor::add_(TorchSharp.torch+Tensor)"));
        Assert.That(found, Has.Some.Contains("Tensor::op_Addition(TorchSharp.torch+Tensor,TorchSharp.torch+Tensor)"));
        Assert.That(found, Has.Some.Contains("Tensor::op_Multiply(TorchSharp.torch+Tensor,Double)"));
        Assert.That(found, Has.Some.Contains("Tensor::square()"));
        Assert.That(found, Has.Some.Contains(ImplicitScalar + "Double)"));
        Assert.That(found, Has.None.Contains("ToScalar"), "an explicit ToScalar() is the safe form");
        Assert.That(UnsafeCalls(typeof(TorchScalarsTests).Assembly.Location, m => m.Contains("::" + nameof(SafeForms) + "(")), Is.Empty);
    }

    private static Tensor UnsafeForms(Tensor x, Tensor y)
    {
        x.add_(y);
        var z = x + y;
        var w = z * 0.5;
        return w.square().mul(2.0);
    }

    private static Tensor SafeForms(Tensor x, Tensor y)
    {
        x.PlusInPlace(y);
        var z = x.Plus(y);
        var w = z.Times(0.5);
        using var two = 2.0.ToScalar();
        return w.Squared().mul(two);
    }

    [Test]
    public void TheHelpers_GiveTheSameBitsAsTheOperatorsTheyReplace()
    {
        using var scope = NewDisposeScope();
        var x = randn(257, generator: new Generator(7));
        var y = randn(257, generator: new Generator(8));
        // Each pair is (helper, TorchSharp's own form); equal means bit for bit.
        var pairs = new (Tensor Helper, Tensor Reference)[]
        {
            (x.Plus(y), x + y),
            (x.clone().PlusInPlace(y), x.clone().add_(y)),
            (x.AddScaled(y, 0.3), x.add(y, alpha: 0.3)),
            (x.clone().AddScaledInPlace(y, -0.7), x.clone().add_(y, alpha: -0.7)),
            (x.Plus(1e-3), x + 1e-3),
            (x.clone().PlusInPlace(1e-3), x.clone().add_(1e-3)),
            (x.clone().PlusInPlace(-0.5f), x.clone().sub_(0.5f)),
            (x.SubtractedFrom(1.0), 1.0 - x),
            (x.Times(0.37), x * 0.37),
            (x.clone().TimesInPlace(100), x.clone().mul_(100)),
            (x.DividedBy(3.0), x / 3.0),
            (x.clone().DivideInPlace(255f), x.clone().div_(255f)),
            (x.Squared(), x.square()),
            (x.Power(3), x.pow(3)),
            (TorchScalars.FullLike(x, 0.1), full_like(x, 0.1)),
        };
        for (int i = 0; i < pairs.Length; i++)
            Assert.That(SameBits(pairs[i].Helper, pairs[i].Reference), Is.True, $"pair {i}");
    }

    [Test]
    public void Squared_HasTheGradientOfSquare()
    {
        using var scope = NewDisposeScope();
        var a = randn(101, generator: new Generator(3)).requires_grad_(true);
        var b = a.detach().clone().requires_grad_(true);
        a.Squared().sum().backward();
        b.square().sum().backward();
        Assert.That(SameBits(a.grad!, b.grad!), Is.True);
    }

    private static bool SameBits(Tensor a, Tensor b) =>
        a.dtype == b.dtype && a.shape.SequenceEqual(b.shape) && a.contiguous().bytes.SequenceEqual(b.contiguous().bytes);
}
