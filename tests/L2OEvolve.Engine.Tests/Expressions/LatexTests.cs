using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Random;

namespace L2OEvolve.Engine.Tests.Expressions;

public class LatexTests
{
    private static string L(string infix) => Latex.Print(Infix.Parse(infix));

    [TestCase("x / (y + 1)", @"\frac{x}{y + 1}")]
    [TestCase("sqrt(x)", @"\sqrt{\left|x\right|}")]
    [TestCase("sqrt(square(x))", @"\sqrt{x^{2}}")]
    [TestCase("pow(x + 1, 2.5)", @"\left(x + 1\right)^{2.5}")]
    [TestCase("cube(x / y)", @"\left(\frac{x}{y}\right)^{3}")]
    [TestCase("exp(-x)", @"e^{-x}")]
    [TestCase("g3 * g_12", @"g_{3} \cdot g_{12}")]
    [TestCase("mt_1 + mean_g2", @"\mathrm{mt}_{1} + \mathrm{mean\_g2}")]
    [TestCase("lag(3, g)", @"g_{3}")]
    [TestCase("lag(2, g * g)", @"\operatorname{lag}_{2}\left(g \cdot g\right)")]
    [TestCase("ema(0.9, g)", @"\operatorname{ema}_{0.9}\left(g\right)")]
    [TestCase("ema_bc(0.999, g)", @"\widehat{\operatorname{ema}}_{0.999}\left(g\right)")]
    [TestCase("1e-8 + x", @"10^{-8} + x")]
    [TestCase("2.5e-10 * x", @"2.5 \cdot 10^{-10} \cdot x")]
    [TestCase("x * -2", @"x \cdot \left(-2\right)")]
    [TestCase("x - (y - z)", @"x - \left(y - z\right)")]
    [TestCase("-(x + y)", @"-\left(x + y\right)")]
    [TestCase("tanh(x) + erfc(y)", @"\tanh\left(x\right) + \operatorname{erfc}\left(y\right)")]
    [TestCase("greater(x, y) * max(x, y)", @"\left[x > y\right] \cdot \max\left(x, y\right)")]
    [TestCase("abs(x) + log(y)", @"\left|x\right| + \log\left|y\right|")]
    public void Print_Expression_RendersLatex(string infix, string expected) => Assert.That(L(infix), Is.EqualTo(expected));

    [Test]
    public void Print_Adam_RendersFractionOfMovingAverages() =>
        Assert.That(L("-0.01 * ema_bc(0.9, g) / (sqrt(ema_bc(0.999, g * g)) + 1e-8)"), Is.EqualTo(
            @"\frac{-0.01 \cdot \widehat{\operatorname{ema}}_{0.9}\left(g\right)}{\sqrt{\left|\widehat{\operatorname{ema}}_{0.999}\left(g \cdot g\right)\right|} + 10^{-8}}"));

    [Test]
    public void Print_RandomTrees_BalancesBracesAndDelimiters()
    {
        var rng = new Rng(99);
        for (int i = 0; i < 2000; i++)
        {
            var e = TestTrees.Random(ref rng, rng.NextInt(1, 30));
            string tex = Latex.Print(e);
            int depth = 0;
            foreach (char c in tex)
            {
                depth += c == '{' ? 1 : c == '}' ? -1 : 0;
                Assert.That(depth, Is.GreaterThanOrEqualTo(0), tex);
            }
            Assert.That(depth, Is.Zero, tex);
            Assert.That(CountOf(tex, @"\left"), Is.EqualTo(CountOf(tex, @"\right")), tex);
        }
    }

    private static int CountOf(string text, string word)
    {
        int n = 0;
        for (int at = text.IndexOf(word, StringComparison.Ordinal); at >= 0; at = text.IndexOf(word, at + 1, StringComparison.Ordinal)) n++;
        return n;
    }
}
