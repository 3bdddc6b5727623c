using TorchSharp;
using static TorchSharp.torch;

namespace L2OEvolve.Torch;

/// <summary>Tensor arithmetic whose TorchSharp <see cref="Scalar"/> operands stay reachable for the whole native call.</summary>
/// <remarks>
/// A TorchSharp <see cref="Scalar"/> owns a native value that its finalizer frees. One made by an implicit conversion
/// (<c>x * 0.5</c>, <c>alpha: -lr</c>) or inside an overload that fills in a default (<c>add(Tensor)</c> passes alpha = 1,
/// <c>square()</c> passes the exponent 2) is unreachable as soon as its handle has been read, so a garbage collection
/// started by another thread during the call can finalize it while libtorch is still reading it. Under parallel
/// rollouts that happened about once in 250,000 calls (a run of the main job died in libtorch's
/// <c>Scalar::toFloat</c>, "Expected false to be true"). So this library never lets a temporary scalar reach libtorch:
/// a scalar is either <see cref="One"/>, which lives as long as the process, or made with <c>ToScalar()</c> and
/// disposed after the call returns. <c>TorchScalarLifetimeTests</c> reads the library's IL and fails on the unsafe forms.
/// </remarks>
internal static class TorchScalars
{
    /// <summary>1, the alpha of plain addition and subtraction; a static, so never finalized.</summary>
    public static readonly Scalar One = 1.ToScalar();

    /// <summary>0 (an integer scalar), for comparisons against zero; a static, so never finalized.</summary>
    public static readonly Scalar Zero = 0.ToScalar();

    /// <summary><paramref name="a"/> + <paramref name="b"/> (a new tensor).</summary>
    public static Tensor Plus(this Tensor a, Tensor b) => a.add(b, One);

    /// <summary><paramref name="a"/> += <paramref name="b"/>, in place.</summary>
    public static Tensor PlusInPlace(this Tensor a, Tensor b) => a.add_(b, One);

    /// <summary><paramref name="a"/> += <paramref name="alpha"/>·<paramref name="b"/>, in place.</summary>
    public static Tensor AddScaledInPlace(this Tensor a, Tensor b, double alpha)
    {
        using var s = alpha.ToScalar();
        return a.add_(b, s);
    }

    /// <summary><paramref name="a"/> + <paramref name="alpha"/>·<paramref name="b"/> (a new tensor).</summary>
    public static Tensor AddScaled(this Tensor a, Tensor b, double alpha)
    {
        using var s = alpha.ToScalar();
        return a.add(b, s);
    }

    /// <summary><paramref name="a"/> + <paramref name="c"/> (a new tensor).</summary>
    public static Tensor Plus(this Tensor a, double c)
    {
        using var s = c.ToScalar();
        return a.add(s, One);
    }

    /// <summary><paramref name="a"/> += <paramref name="c"/>, in place.</summary>
    public static Tensor PlusInPlace(this Tensor a, double c)
    {
        using var s = c.ToScalar();
        return a.add_(s, One);
    }

    /// <summary><paramref name="a"/> += <paramref name="c"/>, in place, with a single-precision scalar.</summary>
    public static Tensor PlusInPlace(this Tensor a, float c)
    {
        using var s = c.ToScalar();
        return a.add_(s, One);
    }

    /// <summary><paramref name="c"/> − <paramref name="a"/> (a new tensor).</summary>
    public static Tensor SubtractedFrom(this Tensor a, double c)
    {
        using var s = c.ToScalar();
        return a.neg().add_(s, One);
    }

    /// <summary><paramref name="a"/>·<paramref name="c"/> (a new tensor).</summary>
    public static Tensor Times(this Tensor a, double c)
    {
        using var s = c.ToScalar();
        return a.mul(s);
    }

    /// <summary><paramref name="a"/> ·= <paramref name="c"/>, in place.</summary>
    public static Tensor TimesInPlace(this Tensor a, double c)
    {
        using var s = c.ToScalar();
        return a.mul_(s);
    }

    /// <summary><paramref name="a"/> / <paramref name="c"/> (a new tensor).</summary>
    public static Tensor DividedBy(this Tensor a, double c)
    {
        using var s = c.ToScalar();
        return a.div(s);
    }

    /// <summary><paramref name="a"/> /= <paramref name="c"/>, in place, with a single-precision scalar.</summary>
    public static Tensor DivideInPlace(this Tensor a, float c)
    {
        using var s = c.ToScalar();
        return a.div_(s);
    }

    /// <summary><paramref name="a"/> raised to the integer power <paramref name="exponent"/> (a new tensor).</summary>
    public static Tensor Power(this Tensor a, int exponent)
    {
        using var s = exponent.ToScalar();
        return a.pow(s);
    }

    /// <summary>A tensor shaped like <paramref name="like"/> filled with <paramref name="value"/>.</summary>
    public static Tensor FullLike(Tensor like, double value)
    {
        using var s = value.ToScalar();
        return full_like(like, s);
    }

    /// <summary><paramref name="a"/>² elementwise (a new tensor); the product <c>a·a</c>, which is what libtorch computes for
    /// <c>pow(a, 2)</c>, without the temporary exponent scalar of <c>square()</c>.</summary>
    public static Tensor Squared(this Tensor a) => a.mul(a);
}
