using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Random;

namespace L2OEvolve.Engine.Tests.Expressions;

public class SimplifyTests
{
    private static string S(string text) => Simplify.Apply(Infix.Parse(text)).ToString();

    [TestCase("x + 0", "x")]
    [TestCase("0 + x", "x")]
    [TestCase("x - 0", "x")]
    [TestCase("0 - x", "-x")]
    [TestCase("x * 1", "x")]
    [TestCase("1 * x", "x")]
    [TestCase("x * 0", "0")]
    [TestCase("tanh(x) * 0", "0")]
    [TestCase("x / 1", "x")]
    [TestCase("x / 0", "1")]
    [TestCase("exp(x) / 0", "1")]
    [TestCase("x - x", "0")]
    [TestCase("x / x", "1")]
    [TestCase("--x", "x")]
    [TestCase("-(x - y)", "y - x")]
    [TestCase("x + -y", "x - y")]
    [TestCase("x - -y", "x + y")]
    [TestCase("2 * 3 + x", "x + 6")]
    [TestCase("(x + 1) + 2", "x + 3")]
    [TestCase("(x - 1) + 0.5", "x - 0.5")]
    [TestCase("(x + 1) - 1", "x")]
    [TestCase("5 - (x + 1)", "4 - x")]
    [TestCase("2 * (3 * x)", "6 * x")]
    [TestCase("(x * 3) * 2", "6 * x")]
    [TestCase("(2 * x) / 4", "0.5 * x")]
    [TestCase("(x / 2) / 4", "x / 8")]
    [TestCase("4 * (x / 2)", "2 * x")]
    [TestCase("-(2 * x)", "-2 * x")]
    [TestCase("x * -1", "-x")]
    [TestCase("x - -2", "x + 2")]
    [TestCase("x + -2", "x - 2")]
    [TestCase("3 * -x", "-3 * x")]
    [TestCase("pow(x, 1)", "x")]
    [TestCase("pow(x, 0)", "sign(x)")]
    [TestCase("sqrt(abs(x))", "sqrt(x)")]
    [TestCase("log(-x)", "log(x)")]
    [TestCase("abs(abs(x))", "abs(x)")]
    [TestCase("abs(square(x))", "square(x)")]
    [TestCase("min(x, x) + max(y, y)", "x + y")]
    [TestCase("greater(x, x)", "0")]
    [TestCase("lag(2, lag(3, g))", "lag(5, g)")]
    [TestCase("tanh(0) + sqrt(4)", "2")]
    public void Apply_Identity_Simplifies(string input, string expected) => Assert.That(S(input), Is.EqualTo(expected));

    [TestCase("0 * exp(x)")]      // 0 * inf is NaN, not 0
    [TestCase("exp(x) - exp(x)")] // inf - inf is NaN
    [TestCase("square(x) / square(x)")]
    [TestCase("0 / x")]           // protected division: 0/0 = 1
    [TestCase("exp(1000)")]       // folding would give inf
    [TestCase("ema(0.9, 2)")]     // zero-initialised: not constant over time
    [TestCase("x * y")]
    public void Apply_NotValidForAllFiniteInputs_LeavesTreeAlone(string input)
    {
        var e = Infix.Parse(input);
        Assert.That(Simplify.Apply(e), Is.SameAs(e));
    }

    [Test]
    public void Apply_SimplifiedTree_IsAFixpoint()
    {
        var rng = new Rng(5);
        for (int i = 0; i < 1000; i++)
        {
            var e = Simplify.Apply(TestTrees.Random(ref rng, rng.NextInt(1, 25), awkwardConstants: false));
            Assert.That(Simplify.Apply(e), Is.SameAs(e), e.ToString());
        }
    }

    [TestCase(2024UL, false)]
    [TestCase(77UL, true)]
    public void Apply_RandomTrees_NeverGrowAndKeepTheirValues(ulong seed, bool awkwardConstants)
    {
        // Property: on finite inputs, wherever the original is finite the simplified tree agrees with the naive
        // reference evaluator up to rounding (merged constants), and never exceeds the original's size.
        var rng = new Rng(seed);
        const int steps = 12;
        int simplified = 0;
        for (int i = 0; i < 4000; i++)
        {
            var e = TestTrees.Random(ref rng, rng.NextInt(2, 25), awkwardConstants: awkwardConstants);
            var s = Simplify.Apply(e);
            Assert.That(s.Size(), Is.LessThanOrEqualTo(e.Size()), $"{e} -> {s}");
            if (!ReferenceEquals(s, e)) simplified++;
            var inputs = TestTrees.Vars.ToDictionary(v => v, _ => Enumerable.Range(0, steps).Select(_ => Input(ref rng)).ToArray());
            double scale = 1;
            var expected = TestTrees.Evaluate(e, inputs, steps, ref scale);
            double unused = 1;
            var actual = TestTrees.Evaluate(s, inputs, steps, ref unused);
            for (int t = 0; t < steps; t++)
            {
                if (!double.IsFinite(expected[t])) continue;
                Assert.That(actual[t], Is.EqualTo(expected[t]).Within(1e-9 * scale), $"{e} -> {s} at step {t}");
            }
        }
        Assert.That(simplified, Is.GreaterThan(700), "the property must exercise many rewrites");
    }

    private static double Input(ref Rng rng) => rng.NextDouble() switch
    {
        < 0.1 => 0.0,
        < 0.2 => 1.0,
        < 0.25 => -1.0,
        _ => Math.Round(rng.NextGaussian() * 2, 2),
    };
}
