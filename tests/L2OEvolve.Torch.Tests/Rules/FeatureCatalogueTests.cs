using L2OEvolve.Engine.Compilation;
using L2OEvolve.Engine.Expressions;
using L2OEvolve.Torch.Rules;
using L2OEvolve.Torch.Teachers;
using static TorchSharp.torch;

namespace L2OEvolve.Torch.Tests.Rules;

/// <summary>
/// The features a teacher records and imitates (<see cref="FeatureComputer"/>) mean the same as the features a rule
/// reads when it runs as an optimizer (<see cref="RuleFeatures"/>): every recorded token, the magic p-norm ones
/// included, is a rule feature with the same values step by step, so a grammar over them imitates and rolls out alike.
/// </summary>
public class FeatureCatalogueTests
{
    private static IEnumerable<TestCaseData> Tokens() => FeatureTokens.Canonical.Select(t => new TestCaseData(t).SetArgDisplayNames(t));

    [TestCaseSource(nameof(Tokens))]
    public void RecordedFeature_IsTheRuleFeatureOfTheSameName(string token)
    {
        Assert.That(RuleFeatures.IsKnown(token), token);
        var settings = FeatureSettings.Default;
        var computer = new FeatureComputer([token], settings.Beta1, settings.Beta2);
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
            var want = features.select(1, 0).data<float>().ToArray();
            for (int i = 0; i < n; i++)
                Assert.That(got[i], Is.EqualTo(want[i]).Within(1e-4 * Math.Max(1, Math.Abs(want[i]))), $"{token} at step {step}, coordinate {i}");
        }
    }
}
