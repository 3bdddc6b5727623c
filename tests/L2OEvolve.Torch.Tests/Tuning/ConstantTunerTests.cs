using L2OEvolve.Engine.Compilation;
using L2OEvolve.Torch.Rules;
using L2OEvolve.Torch.Tuning;
using static L2OEvolve.Torch.Tests.Rules.RuleTestKit;
using static TorchSharp.torch;

namespace L2OEvolve.Torch.Tests.Tuning;

public class ConstantTunerTests
{
    private static TunableRule Sgd(double c) => TunableRule.Create(Def($"-{c} * g", "sgd"));

    private static TuneProgress Run(TunableRule rule, TuneSettings settings, TuneProgress? from = null)
    {
        var family = ConstantTuner.Family(settings);
        var p = from ?? TuneProgress.Initial(rule, settings.MetaOptimizer);
        while (p.Epoch < settings.Epochs) p = ConstantTuner.RunEpoch(rule, settings, family, CPU, p);
        return p;
    }

    [TestCase(MetaOptimizerKind.Adam, 0.05, MetaObjective.Log, true)]
    [TestCase(MetaOptimizerKind.Sgd, 1.0, MetaObjective.Log, true)]
    [TestCase(MetaOptimizerKind.Adam, 0.001, MetaObjective.Log, false)]
    [TestCase(MetaOptimizerKind.Adam, 0.001, MetaObjective.Sum, false)]
    [TestCase(MetaOptimizerKind.Sgd, 1e-8, MetaObjective.Sum, false)]
    [TestCase(MetaOptimizerKind.Sgd, 1e-6, MetaObjective.Log, false)]
    public void RunEpoch_SgdRuleOnQuadratic_RaisesTheLearningRateAndLowersTheMetaLoss(MetaOptimizerKind kind, double lr, MetaObjective objective, bool relative)
    {
        // With c = 0.001 the quadratic barely moves in 60 steps; the stable rates reach far further.
        var rule = Sgd(0.001);
        var settings = new TuneSettings("quadratic", Epochs: 12, Steps: 60, Unroll: 10, MetaLr: lr, MetaOptimizer: kind, Objective: objective, Relative: relative);
        var done = Run(rule, settings);

        double c = -done.Constants[0];
        Assert.That(c, Is.GreaterThan(0.003), "the step size must grow");
        var family = ConstantTuner.Family(settings);
        long[] heldOut = [424242, 424243, 424244];
        var before = ConstantTuner.Evaluate(rule, rule.InitialConstants.AsSpan(), family, CPU, heldOut, 60, 10);
        var after = ConstantTuner.Evaluate(rule, done.Constants.AsSpan(), family, CPU, heldOut, 60, 10);
        Assert.That(after.MetaLoss, Is.LessThan(0.8 * before.MetaLoss));
        Assert.That(done.History.Select(h => h.Skipped), Is.All.EqualTo(0));
    }

    [Test]
    public void RunEpoch_ResumedAfterTwoEpochs_MatchesAnUninterruptedRun()
    {
        var rule = TunableRule.Create(Def("-0.01 * ema(0.9, g) - 0.001 * g1", "m"), tuneBetas: true);
        var settings = new TuneSettings("logreg", Epochs: 4, Steps: 20, Unroll: 5, MetaLr: 0.001);
        var straight = Run(rule, settings);
        var half = Run(rule, settings with { Epochs = 2 });
        var resumed = Run(rule, settings, half);
        Assert.That(resumed.Constants, Is.EqualTo(straight.Constants));
        Assert.That(resumed.Meta, Is.EqualTo(straight.Meta).Using<MetaOptimizerState>((a, b) =>
            a.Steps == b.Steps && a.First.SequenceEqual(b.First) && a.Second.SequenceEqual(b.Second)));
        Assert.That(resumed.Constants, Is.Not.EqualTo(rule.InitialConstants.ToArray()), "tuning must have moved the constants");
    }

    [TestCase(true)]
    [TestCase(false)]
    public void RunEpoch_MetaStepsPushingABetaPastOne_KeepItInsideTheUnitInterval(bool relative)
    {
        // A meta-lr this large moves every constant by about its own size per window, the beta (0.999) included.
        var rule = TunableRule.Create(Def("-0.05 * ema(0.999, g)", "m"), tuneBetas: true);
        var settings = new TuneSettings("quadratic", Epochs: 2, Steps: 20, Unroll: 5, MetaLr: 0.5, Relative: relative);
        var done = Run(rule, settings);
        Assert.That(rule.Kinds, Is.EqualTo(new[] { ConstantKind.Value, ConstantKind.EmaBeta }));
        Assert.That(done.Constants[1], Is.InRange(TunableRule.BetaMin, TunableRule.BetaMax));
        Assert.That(done.History.SelectMany(h => h.Constants.Skip(1)), Is.All.InRange(TunableRule.BetaMin, TunableRule.BetaMax));
    }

    [Test]
    public void RunEpoch_AbsoluteSteps_EachWindowRunsWithTheConstantsTheLastMetaStepGave()
    {
        // Plain SGD meta-steps over an epoch of 4 windows. Were every window run with the epoch's starting constants,
        // the epoch's move would be lr times a sum of gradients all taken at c₀: exactly linear in the meta-lr. A
        // meta-lr of 1e-12 measures that linear move; at 1e-6 the constant moves far enough between windows that the
        // later gradients, taken at the stepped constants, differ.
        var rule = Sgd(0.001);
        var settings = new TuneSettings("quadratic", Epochs: 1, Steps: 40, Unroll: 10, MetaLr: 1e-6, MetaOptimizer: MetaOptimizerKind.Sgd,
            Objective: MetaObjective.Log, Relative: false);
        double moved = Run(rule, settings).Constants[0] - rule.InitialConstants[0];
        double linear = (Run(rule, settings with { MetaLr = 1e-12 }).Constants[0] - rule.InitialConstants[0]) * 1e6;
        Assert.That(moved, Is.Not.EqualTo(linear).Within(1e-3 * Math.Abs(linear)));
    }

    [Test]
    public void RunEpoch_DivergingRule_SkipsTheStepAndKeepsTheConstants()
    {
        var rule = Sgd(1e6);
        var settings = new TuneSettings("quadratic", Epochs: 2, Steps: 20, Unroll: 5);
        var done = Run(rule, settings);
        Assert.That(done.Constants.ToArray(), Is.EqualTo(rule.InitialConstants.ToArray()));
        Assert.That(done.History.Length, Is.EqualTo(2));
        Assert.That(done.History.Select(h => h.Skipped), Is.All.GreaterThan(0));
        Assert.That(done.History.Select(h => h.MetaLoss), Is.All.NaN);
        Assert.That(done.Meta.Steps, Is.Zero);
    }

    [Test]
    public void Evaluate_DivergingRule_ScoresInfinity()
    {
        var rule = Sgd(1e6);
        var e = ConstantTuner.Evaluate(rule, rule.InitialConstants.AsSpan(), ConstantTuner.Family(new TuneSettings("quadratic")), CPU, [1], 20, 5);
        Assert.That(e.MetaLoss, Is.EqualTo(double.PositiveInfinity));
    }
}
