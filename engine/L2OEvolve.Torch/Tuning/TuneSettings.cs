using System.Globalization;

namespace L2OEvolve.Torch.Tuning;

/// <summary>Which function of the window meta-loss L (the sum of the U post-update losses) is differentiated.</summary>
public enum MetaObjective
{
    /// <summary>L itself, as the paper. One window where the optimizee nearly diverges dominates the meta-optimizer's
    /// moments for many updates (with Adam it keeps pushing the constants the same way long after).</summary>
    Sum,
    /// <summary>log L: the same direction per window, scaled by 1/L, so windows are weighed by relative, not absolute,
    /// improvement and a near-divergence gives a bounded push back instead of an avalanche.</summary>
    Log,
}

/// <summary>
/// Everything that determines a meta-tuning run, so a checkpoint can say whether it may be resumed under new
/// settings (<see cref="Incompatibilities"/>). Defaults follow the paper's stage 3 where it fits a short run.
/// </summary>
/// <param name="Optimizee">Optimizee family spec (<c>quadratic</c>, <c>mlp-fashion:batch=64</c>, ...).</param>
/// <param name="Epochs">Epochs; each trains a fresh optimizee instance (new seed) for <paramref name="Steps"/> steps.</param>
/// <param name="Steps">Optimizee steps per epoch (a multiple of <paramref name="Unroll"/>; a remainder is dropped).</param>
/// <param name="Unroll">Truncation length U: steps per meta-update (the reference June tuning uses 10; docs/symbolic-l2o.md, 'Meta-tuning the constants').</param>
/// <param name="MetaLr">Meta learning rate.</param>
/// <param name="MetaOptimizer">Adam, or SGD with momentum as the paper.</param>
/// <param name="Momentum">Momentum of the SGD meta-optimizer (the paper's 0.9).</param>
/// <param name="Seed">Seed of the optimizee seeds: epoch e trains instance <c>Rng(Seed).Fork(e)</c>.</param>
/// <param name="TuneBetas">Also tune the betas of moving averages written in the rule (not those inside features such as m).</param>
/// <param name="DataDir">IDX data folder for the MNIST-format optimizees (null: Debian's Fashion-MNIST).</param>
/// <param name="Batch">Minibatch size.</param>
/// <param name="Init">Parameter initialisation (null: the reference N(0, 0.01²)).</param>
/// <param name="Objective">What is differentiated: the window meta-loss itself, or its logarithm (the default).</param>
/// <param name="Relative">Meta-optimise each constant relative to its initial magnitude (c = |c₀|·φ, steps on φ), so one
/// learning rate suits a 1e-3 step size and a 0.9 decay alike; false steps on the constants themselves.</param>
public sealed record TuneSettings(
    string Optimizee,
    int Epochs = 20,
    int Steps = 200,
    int Unroll = 10,
    double MetaLr = 0.01,
    MetaOptimizerKind MetaOptimizer = MetaOptimizerKind.Adam,
    double Momentum = 0.9,
    long Seed = 0,
    bool TuneBetas = false,
    string? DataDir = null,
    int Batch = 128,
    string? Init = null,
    MetaObjective Objective = MetaObjective.Log,
    bool Relative = true)
{
    /// <summary>Number of meta-updates (windows) per epoch.</summary>
    public int Windows => Steps / Unroll;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (Epochs < 1) throw new ArgumentException($"--epochs must be at least 1, got {Epochs}");
        if (Unroll < 1) throw new ArgumentException($"--unroll must be at least 1, got {Unroll}");
        if (Steps < Unroll) throw new ArgumentException($"--steps ({Steps}) must be at least --unroll ({Unroll})");
        if (!(MetaLr > 0) || !double.IsFinite(MetaLr)) throw new ArgumentException($"--lr must be a positive number, got {MetaLr}");
        if (Momentum is < 0 or >= 1) throw new ArgumentException($"--momentum must lie in [0, 1), got {Momentum}");
        if (Batch < 1) throw new ArgumentException($"--batch must be at least 1, got {Batch}");
    }

    /// <summary>
    /// The fields that differ from <paramref name="other"/> and forbid continuing a run made under them. The epoch
    /// count may grow (a finished run can be extended), so it is not one of them.
    /// </summary>
    public IReadOnlyList<string> Incompatibilities(TuneSettings other)
    {
        var diffs = new List<string>();
        void Check<T>(string name, T a, T b)
        {
            if (!EqualityComparer<T>.Default.Equals(a, b)) diffs.Add($"{name}: {Show(b)} → {Show(a)}");
        }
        Check("optimizee", Optimizee, other.Optimizee);
        Check("steps", Steps, other.Steps);
        Check("unroll", Unroll, other.Unroll);
        Check("lr", MetaLr, other.MetaLr);
        Check("meta-optimizer", MetaOptimizer, other.MetaOptimizer);
        Check("momentum", Momentum, other.Momentum);
        Check("seed", Seed, other.Seed);
        Check("tune-betas", TuneBetas, other.TuneBetas);
        Check("batch", Batch, other.Batch);
        Check("init", Init, other.Init);
        Check("data-dir", DataDir, other.DataDir);
        Check("objective", Objective, other.Objective);
        Check("relative", Relative, other.Relative);
        return diffs;
    }

    private static string Show(object? o) => o switch
    {
        null => "(default)",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        _ => o.ToString() ?? "",
    };
}
