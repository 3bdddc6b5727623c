using System.Collections.Immutable;
using L2OEvolve.Engine.ConstantFitting;
using L2OEvolve.Engine.RowEvaluation;
using L2OEvolve.Engine.Expressions;

namespace L2OEvolve.Engine.Search;

/// <summary>
/// Mean squared error on a table (row data) or along time-major trajectories (for stateful rules), through the
/// compiled SIMD evaluator. Candidates are scored in parallel, one workspace per worker, results written by index.
/// Also the constant tuner for its own data (Levenberg–Marquardt through <see cref="ConstantOptimizer"/>).
/// </summary>
public sealed class MseFitness : ICandidateFitness, IConstantTuner
{
    /// <summary>Levenberg–Marquardt steps per tuning; a few suffice inside a search, where tuning recurs on the survivors.</summary>
    public static readonly ConstantFitOptions TuningOptions = new(MaxIterations: 10);

    private readonly ImmutableArray<string> _names;
    private readonly float[][] _columns;
    private readonly float[] _target;
    private readonly int _rows;
    private readonly int _coordinates;
    private readonly int _steps;
    private readonly bool _trajectory;

    // The tuner fits on a fixed, evenly strided subsample (rows, or whole coordinates of trajectories): fitting is
    // ~k+1 evaluations per iteration, and the fitted rule is rescored on all the data by the search anyway.
    private readonly float[][] _tuneColumns;
    private readonly float[] _tuneTarget;
    private readonly int _tuneCoordinates;

    private MseFitness(ImmutableArray<string> names, float[][] columns, float[] target, int rows, int coordinates, int steps, bool trajectory)
    {
        if (names.Length != columns.Length) throw new ArgumentException($"{names.Length} names for {columns.Length} columns");
        (_names, _columns, _target, _rows, _coordinates, _steps, _trajectory) = (names, columns, target, rows, coordinates, steps, trajectory);
        double mean = 0;
        for (int i = 0; i < rows; i++) mean += target[i];
        mean /= Math.Max(1, rows);
        double sum = 0;
        for (int i = 0; i < rows; i++) sum += (target[i] - mean) * (target[i] - mean);
        BaselineLoss = sum / Math.Max(1, rows);
        (_tuneColumns, _tuneTarget, _tuneCoordinates) = Subsample(columns, target, coordinates, steps, trajectory);
    }

    /// <summary>Largest number of rows (or coordinates × steps) the constant tuner fits on.</summary>
    public const int TuningRows = 256;

    /// <summary>Total values (rows, or coordinates × steps) scored per candidate.</summary>
    public int Size => _rows;

    /// <summary>
    /// The same problem on an evenly strided subset of at most <paramref name="maxValues"/> rows (whole coordinates for
    /// trajectories), or this fitness when it is already that small. A fixed subset keeps scores deterministic and
    /// memoisable; a search can select on it and rescore its hall of fame on all the data (PySR's batching, without resampling).
    /// </summary>
    public MseFitness Subsample(int maxValues)
    {
        if (maxValues <= 0 || _rows <= maxValues) return this;
        var (columns, target, coordinates) = Subsample(_columns, _target, _coordinates, _steps, _trajectory, maxValues);
        return _trajectory
            ? Trajectories(_names, columns, target, coordinates, _steps)
            : Rows(_names, columns, target);
    }

    private static (float[][] Columns, float[] Target, int Coordinates) Subsample(float[][] columns, float[] target, int coordinates, int steps, bool trajectory,
        int maxValues = TuningRows)
    {
        int units = trajectory ? coordinates : target.Length;
        int per = trajectory ? steps : 1;
        int stride = Math.Max(1, (int)Math.Ceiling(units * (double)per / maxValues));
        if (stride == 1) return (columns, target, coordinates);
        var keep = Enumerable.Range(0, units).Where(u => u % stride == 0).ToArray();
        float[] Pick(float[] source)
        {
            if (!trajectory) return keep.Select(r => source[r]).ToArray();
            var picked = new float[keep.Length * steps];
            for (int t = 0; t < steps; t++)
                for (int k = 0; k < keep.Length; k++) picked[t * keep.Length + k] = source[t * coordinates + keep[k]];
            return picked;
        }
        return (columns.Select(Pick).ToArray(), Pick(target), keep.Length);
    }

    /// <summary>MSE over the rows of column-major features (one value per row in <paramref name="target"/>) (stateless rules only; ema/lag score +inf).</summary>
    public static MseFitness Rows(IReadOnlyList<string> names, float[][] columns, float[] target) =>
        new([.. names], columns, target, target.Length, target.Length, 1, trajectory: false);

    /// <summary>MSE along time-major trajectories (index = step·coordinates + coordinate), so stateful rules run along time.</summary>
    public static MseFitness Trajectories(IReadOnlyList<string> names, float[][] features, float[] target, int coordinates, int steps) =>
        new([.. names], features, target, coordinates * steps, coordinates, steps, trajectory: true);

    /// <inheritdoc/>
    public int ObjectiveCount => 1;

    /// <summary>The target's variance (the MSE of the best constant rule).</summary>
    public double BaselineLoss { get; }

    /// <inheritdoc/>
    public bool IsDeterministic => true;

    /// <summary>True when rows are time-major trajectories (stateful rules allowed).</summary>
    public bool IsTrajectory => _trajectory;

    /// <summary>The feature names the columns stand for.</summary>
    public ImmutableArray<string> FeatureNames => _names;

    /// <inheritdoc/>
    public void Evaluate(ReadOnlySpan<Expr> candidates, Span<double> objectives, FitnessRequest request, CancellationToken ct)
    {
        var trees = candidates.ToArray();
        var results = new double[trees.Length];
        Parallel.For(0, trees.Length, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, request.Threads), CancellationToken = ct },
            i => results[i] = Loss(trees[i], ThreadWorkspace));
        results.CopyTo(objectives);
    }

    // One workspace per thread for the fitness's own parallel loops: its buffers only grow and every evaluation
    // writes what it reads, so reuse changes nothing but the allocation (tens of KB per batch and per tuning).
    [ThreadStatic] private static EvalWorkspace? t_workspace;

    private static EvalWorkspace ThreadWorkspace => t_workspace ??= new EvalWorkspace();

    /// <inheritdoc/>
    public void EvaluateOne(Expr candidate, Span<double> objectives) => objectives[0] = Loss(candidate, ThreadWorkspace);

    /// <summary>The MSE of one rule (+inf when it fails to compile for these features or is not finite).</summary>
    public double Loss(Expr tree, EvalWorkspace ws)
    {
        CompiledRule rule;
        try { rule = Compiler.Compile(tree, _names); }
        catch (ArgumentException) { return double.PositiveInfinity; }
        return Loss(rule, ws);
    }

    /// <summary>The MSE of a compiled rule (+inf when not finite, or stateful on row data).</summary>
    public double Loss(CompiledRule rule, EvalWorkspace ws)
    {
        double mse;
        if (_trajectory) mse = Evaluator.MseTrajectory(rule, _columns, _coordinates, _steps, _target, ws);
        else if (rule.IsStateful) return double.PositiveInfinity;
        else mse = Evaluator.Mse(rule, _columns, _rows, _target, ws);
        return double.IsFinite(mse) ? mse : double.PositiveInfinity;
    }

    /// <summary>
    /// The rule with constants (and ema betas) fitted by Levenberg–Marquardt on a strided subsample of at most
    /// <see cref="TuningRows"/> values, or the rule itself when that did not help there.
    /// </summary>
    public Expr Tune(Expr tree, CancellationToken ct)
    {
        CompiledRule rule;
        try { rule = Compiler.Compile(tree, _names); }
        catch (ArgumentException) { return tree; }
        if (rule.Constants.Length == 0 || (rule.IsStateful && !_trajectory)) return tree;
        var ws = ThreadWorkspace;
        try
        {
            var fit = _trajectory
                ? ConstantOptimizer.FitTrajectory(rule, _tuneColumns, _tuneCoordinates, _steps, _tuneTarget, ws, TuningOptions)
                : ConstantOptimizer.Fit(rule, _tuneColumns, _tuneTarget.Length, _tuneTarget, ws, TuningOptions);
            return fit.Improved ? fit.Expr : tree;
        }
        catch (ArithmeticException)
        {
            // A numerically hopeless candidate (e.g. Math.Sign of a NaN inside a derivative) keeps its constants.
            return tree;
        }
    }

    /// <summary>The coefficient of determination 1 − MSE/variance for a loss this fitness produced.</summary>
    public double R2(double loss) => BaselineLoss > 0 ? 1 - loss / BaselineLoss : (loss == 0 ? 1 : double.NegativeInfinity);
}
