using L2OEvolve.Engine.Compilation;
using L2OEvolve.Engine.Expressions;
using L2OEvolve.Torch.Rules;
using L2OEvolve.Torch.Teachers;
using static TorchSharp.torch;

namespace L2OEvolve.Torch.Tests.Rules;

/// <summary>
/// The features a teacher records and imitates (<see cref="FeatureComputer"/>) are the features a rule reads when it
/// runs as an optimizer (<see cref="RuleFeatures"/>): every recorded token, the magic p-norm ones included, is a
/// catalogue feature, computed from the catalogue's definition, with the values the paper's formulas give.
/// </summary>
public class FeatureCatalogueTests
{
    private static IEnumerable<TestCaseData> Tokens() => FeatureTokens.Canonical.Select(t => new TestCaseData(t).SetArgDisplayNames(t));

    [TestCaseSource(nameof(Tokens))]
    public void RecordedFeature_IsTheRuleFeatureOfTheSameName(string token)
    {
        Assert.That(RuleFeatures.Catalogue.Select(c => c.Name), Does.Contain(token));
        var settings = FeatureSettings.Default;
        // All tokens at once (the multi-output program a teacher runs), read back by column.
        var computer = new FeatureComputer(FeatureTokens.Canonical, settings.Beta1, settings.Beta2);
        int column = FeatureTokens.Canonical.IndexOf(token);
        var gen = new Generator(11);
        const int n = 64;
        var state = computer.Initial(n, CPU);
        // The rule "token" as an optimizer adds the feature's value to θ each step: θ_t - θ_{t-1} is the feature.
        using var opt = new RuleOptimizer("f", RuleProgram.Compile(new Expr.Var(token), settings), [[n]], CPU, RuleBackend.OpChain);
        using var p = zeros(n);
        for (int step = 1; step <= 6; step++)
        {
            using var scope = NewDisposeScope();
            var g = randn(n, generator: gen);
            var (features, next) = computer.Step(g, state, step);
            state = next;
            foreach (var t in next.Tensors()) t.DetachFromDisposeScope();
            var before = p.clone();
            opt.Step([p], [g], step);
            var got = (p - before).data<float>().ToArray();
            var want = features.select(1, column).data<float>().ToArray();
            for (int i = 0; i < n; i++)
                Assert.That(got[i], Is.EqualTo(want[i]).Within(1e-4 * Math.Max(1, Math.Abs(want[i]))), $"{token} at step {step}, coordinate {i}");
        }
    }

    /// <summary>
    /// The paper's formulas (docs/symbolic-l2o.md, 'Features') in double precision, one coordinate at a time, against
    /// the float32 features, within 4e-6 of each feature's magnitude (the same formula over |g|): float32 rounds each of
    /// a handful of operations by 6e-8 of its operands, and a moving average of gradients of both signs keeps the
    /// error of its terms while its value cancels, so the error is relative to the magnitude, not the value.
    /// </summary>
    [TestCase(0.95, 0.95)]
    [TestCase(0.9, 0.999)]
    public void Step_EveryToken_MatchesThePaperFormulasInDoublePrecision(double b1, double b2)
    {
        using var scope = NewDisposeScope();
        var tokens = FeatureTokens.Canonical;
        var computer = new FeatureComputer(tokens, b1, b2);
        const int n = 200, steps = 40;
        var gen = new Generator(5);
        var gs = (randn(steps, n, generator: gen) * exp(randn(n, generator: gen) * 2)).data<float>().ToArray();
        var state = computer.Initial(n, CPU);
        var reference = new Reference[n];
        var magnitude = new Reference[n];
        for (int k = 1; k <= steps; k++)
        {
            var g = tensor(gs.AsSpan((k - 1) * n, n).ToArray());
            var (features, next) = computer.Step(g, state, k);
            state = next;
            var f = features.data<float>().ToArray();
            for (int i = 0; i < n; i++)
            {
                var want = reference[i].Step(gs[(k - 1) * n + i], k, b1, b2);
                var scale = magnitude[i].Step(Math.Abs(gs[(k - 1) * n + i]), k, b1, b2);
                for (int j = 0; j < tokens.Length; j++)
                {
                    double w = want[tokens[j]];
                    Assert.That(f[i * tokens.Length + j], Is.EqualTo(w).Within(4e-6 * Math.Max(Math.Abs(w), Math.Abs(scale[tokens[j]]))),
                        $"{tokens[j]} at step {k}, coordinate {i}");
                }
            }
        }
    }

    [Test]
    public void Step_Float64OnTheOperatorChain_AgreesWithTheFusedFloat32Pass()
    {
        using var scope = NewDisposeScope();
        var computer = new FeatureComputer(FeatureTokens.Canonical, 0.95, 0.95);
        var gen = new Generator(2);
        // Several fused blocks and a partial one.
        const int n = 2 * FusedKernel.Block + 37;
        var s32 = computer.Initial(n, CPU);
        var s64 = new FeatureState(s32.Slots.to(ScalarType.Float64));
        for (int k = 1; k <= 5; k++)
        {
            var g = randn(n, generator: gen);
            var (f32, n32) = computer.Step(g, s32, k);
            var (f64, n64) = computer.Step(g.to(ScalarType.Float64), s64, k);
            Assert.That(f64.dtype, Is.EqualTo(ScalarType.Float64));
            Assert.That(allclose(f32.to(ScalarType.Float64), f64, rtol: 1e-5, atol: 1e-7), Is.True, $"step {k}");
            (s32, s64) = (n32, n64);
        }
    }

    [Test]
    public void Step_LeavesTheGivenStateAsItWas()
    {
        using var scope = NewDisposeScope();
        var computer = new FeatureComputer(["mt", "mom9"], 0.95, 0.95);
        var s0 = computer.Initial(10, CPU);
        var (_, s1) = computer.Step(ones(10), s0, 1);
        var before = s1.Slots.clone();
        computer.Step(ones(10) * -3, s1, 2);
        Assert.That(s1.Slots.eq(before).all().item<bool>(), Is.True);
    }

    /// <summary>One coordinate's moving averages, in double precision, straight from the definitions.</summary>
    private struct Reference
    {
        private double _m, _v, _mom5, _mom9, _mom99, _p2, _p25, _p3, _p4;

        public Dictionary<string, double> Step(double g, int k, double b1, double b2)
        {
            _m = b1 * _m + (1 - b1) * g;
            _v = b2 * _v + (1 - b2) * g * g;
            _mom5 = 0.5 * _mom5 + 0.5 * g;
            _mom9 = 0.9 * _mom9 + 0.1 * g;
            _mom99 = 0.99 * _mom99 + 0.01 * g;
            double a = Math.Abs(g);
            _p2 = b2 * _p2 + (1 - b2) * Math.Pow(a, 2);
            _p25 = b2 * _p25 + (1 - b2) * Math.Pow(a, 2.5);
            _p3 = b2 * _p3 + (1 - b2) * Math.Pow(a, 3);
            _p4 = b2 * _p4 + (1 - b2) * Math.Pow(a, 4);
            double c1 = 1 - Math.Pow(b1, k), c2 = 1 - Math.Pow(b2, k);
            double vs = Math.Sqrt(_v / c2) + 1e-12;
            double m = _m;
            double Magic(double acc, double p) => m / (Math.Pow(acc / c2, 1 / p) + 1e-8);
            return new()
            {
                ["mt"] = _m / c1 / vs, ["gt"] = g / vs, ["m"] = _m, ["mhat"] = _m / c1, ["v"] = _v, ["vs"] = vs, ["g"] = g,
                ["mom5"] = _mom5, ["mom9"] = _mom9, ["mom99"] = _mom99, ["t"] = k / 1000.0,
                ["mp2"] = Magic(_p2, 2), ["mp2h"] = Magic(_p25, 2.5), ["mp3"] = Magic(_p3, 3), ["mp4"] = Magic(_p4, 4),
            };
        }
    }
}
