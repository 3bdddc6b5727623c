using L2OEvolve.Engine.Compilation;
using L2OEvolve.Engine.RowEvaluation;
using L2OEvolve.Engine.Expressions;

namespace L2OEvolve.Engine.ConstantFitting;

/// <summary>Settings of <see cref="ConstantOptimizer"/>.</summary>
/// <param name="MaxIterations">Accepted-or-rejected Levenberg–Marquardt steps at most.</param>
/// <param name="InitialDamping">Starting λ (relative to the diagonal of JᵀJ).</param>
/// <param name="Tolerance">Stop when an accepted step improves the squared error by less than this fraction.</param>
/// <param name="FitEmaBetas">Also fit ema betas (kept inside (0, 1)); otherwise only free constants move.</param>
public sealed record ConstantFitOptions(int MaxIterations = 100, double InitialDamping = 1e-3, double Tolerance = 1e-10,
    bool FitEmaBetas = true)
{
    /// <summary>The defaults.</summary>
    public static readonly ConstantFitOptions Default = new();
}

/// <summary>The outcome of a constant fit.</summary>
/// <param name="Expr">The rule with fitted constants (the input tree when nothing improved).</param>
/// <param name="Rule">The compiled form of <paramref name="Expr"/>.</param>
/// <param name="Loss">MSE of <paramref name="Expr"/> by <see cref="Evaluator"/> (float32), +inf when not finite.</param>
/// <param name="InitialLoss">MSE of the input rule, the same way.</param>
/// <param name="Iterations">Levenberg–Marquardt steps tried.</param>
public sealed record ConstantFitResult(Expr Expr, CompiledRule Rule, double Loss, double InitialLoss, int Iterations)
{
    /// <summary>True when the fitted constants lowered the loss.</summary>
    public bool Improved => Loss < InitialLoss;
}

/// <summary>Fits a rule's constants to data by Levenberg–Marquardt with exact forward-mode derivatives.</summary>
/// <remarks>
/// <code>
/// θ ← the rule's constants; (S, JᵀJ, Jᵀr) ← forward-mode pass at θ          (S = Σ r², r = f(x; θ) - y)
/// repeat up to MaxIterations:
///     solve (JᵀJ + λ·diag(JᵀJ)) δ = -Jᵀr                                      (Cholesky)
///     if θ+δ is finite, keeps ema betas in (0,1) and S(θ+δ) &lt; S(θ):
///         accept; λ ← λ/3; stop when the improvement is below Tolerance·S or the step is negligible; relinearise
///     else λ ← 4λ (stop after 20 rejections in a row)
/// return the rule at θ unless its float32 MSE is not better than the input's
/// </code>
/// Derivatives and S are computed in double (<see cref="ForwardMode"/>); the reported loss is the evaluator's,
/// so it is comparable with every other loss in a search. Non-finite values reject a step, never throw.
/// </remarks>
public static class ConstantOptimizer
{
    /// <summary>Rejected steps in a row after which the fit stops: λ has grown 4^20 ≈ 1e12-fold without progress.</summary>
    private const int MaxConsecutiveRejections = 20;

    /// <summary>Fits the constants of <paramref name="expr"/> on row data.</summary>
    public static ConstantFitResult Fit(Expr expr, IReadOnlyList<string> featureNames, ReadOnlySpan<float[]> columns, int rows,
        ReadOnlySpan<float> target, EvalWorkspace ws, ConstantFitOptions? options = null)
    {
        var result = Fit(Compiler.Compile(expr, featureNames), columns, rows, target, ws, options);
        return result.Improved ? result : result with { Expr = expr }; // keep the caller's (shared) tree when unchanged
    }

    /// <summary>Fits the constants of a compiled stateless rule on row data.</summary>
    public static ConstantFitResult Fit(CompiledRule rule, ReadOnlySpan<float[]> columns, int rows, ReadOnlySpan<float> target,
        EvalWorkspace ws, ConstantFitOptions? options = null)
    {
        if (rule.IsStateful)
            throw new ArgumentException("rule has stateful operators (ema/lag): fit it with FitTrajectory", nameof(rule));
        return Run(rule, columns, rows, 1, target, ws, options ?? ConstantFitOptions.Default);
    }

    /// <summary>Fits the constants of a rule over a time-major trajectory (see <see cref="Evaluator.EvaluateTrajectory"/>).</summary>
    public static ConstantFitResult FitTrajectory(CompiledRule rule, ReadOnlySpan<float[]> features, int coordinates, int steps,
        ReadOnlySpan<float> target, EvalWorkspace ws, ConstantFitOptions? options = null) =>
        Run(rule, features, coordinates, steps, target, ws, options ?? ConstantFitOptions.Default);

    private static double Loss(CompiledRule rule, ReadOnlySpan<float[]> columns, int coordinates, int steps, ReadOnlySpan<float> target,
        EvalWorkspace ws) =>
        rule.IsStateful
            ? Evaluator.MseTrajectory(rule, columns, coordinates, steps, target, ws)
            : Evaluator.Mse(rule, columns, coordinates * steps, target, ws);

    private static ConstantFitResult Run(CompiledRule rule, ReadOnlySpan<float[]> columns, int coordinates, int steps,
        ReadOnlySpan<float> target, EvalWorkspace ws, ConstantFitOptions o)
    {
        double initialLoss = Loss(rule, columns, coordinates, steps, target, ws);
        var unchanged = new ConstantFitResult(rule.ToExpr(), rule, initialLoss, initialLoss, 0);

        int m = rule.Constants.Length;
        var param = new int[m];
        int k = 0;
        for (int i = 0; i < m; i++)
            param[i] = rule.ConstantKinds[i] == ConstantKind.Value || o.FitEmaBetas ? k++ : -1;
        if (k == 0 || coordinates * steps == 0) return unchanged;

        var theta = rule.Constants.ToArray();
        int iter = 0;
        var fm = new ForwardMode(rule, param, k, coordinates, columns.Length);
        try
        {
            var trial = new double[m];
            var jtj = new double[k * k];
            var jtr = new double[k];
            var a = new double[k * k];
            var delta = new double[k];
            double sse = fm.Accumulate(theta, columns, steps, target, jtj, jtr);
            if (!double.IsFinite(sse)) return unchanged;

            double lambda = o.InitialDamping;
            int rejected = 0;
            while (iter < o.MaxIterations && rejected < MaxConsecutiveRejections && sse > 0)
            {
                iter++;
                rejected++; // reset on acceptance
                double maxDiag = 0;
                for (int i = 0; i < k; i++) maxDiag = Math.Max(maxDiag, jtj[i * k + i]);
                if (!(maxDiag > 0)) break; // no constant influences the output
                Array.Copy(jtj, a, a.Length);
                for (int i = 0; i < k; i++) a[i * k + i] += lambda * Math.Max(jtj[i * k + i], 1e-12 * maxDiag);
                for (int i = 0; i < k; i++) delta[i] = -jtr[i];
                if (!Cholesky.Solve(a, delta, k))
                {
                    lambda *= 4;
                    continue;
                }
                if (!TryStep(rule, theta, param, delta, trial))
                {
                    lambda *= 4;
                    continue;
                }
                double trialSse = fm.Accumulate(trial, columns, steps, target, [], []);
                if (!(trialSse < sse)) // also rejects NaN
                {
                    lambda *= 4;
                    continue;
                }
                double gain = (sse - trialSse) / sse;
                bool tinyStep = true;
                for (int i = 0; i < m; i++)
                    tinyStep &= Math.Abs(trial[i] - theta[i]) <= 1e-10 * (Math.Abs(theta[i]) + 1e-10);
                Array.Copy(trial, theta, m);
                rejected = 0;
                // The last step needs no relinearisation: S(θ) is the trial's (the values are computed alike with or
                // without derivatives), and JᵀJ, Jᵀr would go unused.
                if (gain < o.Tolerance || tinyStep || iter >= o.MaxIterations) break;
                sse = fm.Accumulate(theta, columns, steps, target, jtj, jtr);
                lambda = Math.Max(lambda / 3, 1e-15);
                if (!double.IsFinite(sse)) break;
            }
        }
        finally { fm.Release(); }

        var fitted = rule.WithConstants(theta);
        double loss = Loss(fitted, columns, coordinates, steps, target, ws);
        return loss < initialLoss
            ? new ConstantFitResult(fitted.ToExpr(), fitted, loss, initialLoss, iter)
            : unchanged with { Iterations = iter };
    }

    /// <summary>trial = θ + δ on the fitted constants; false when it leaves the admissible region.</summary>
    private static bool TryStep(CompiledRule rule, double[] theta, int[] param, double[] delta, double[] trial)
    {
        for (int i = 0; i < theta.Length; i++)
        {
            double v = param[i] >= 0 ? theta[i] + delta[param[i]] : theta[i];
            if (!double.IsFinite(v)) return false;
            if (rule.ConstantKinds[i] == ConstantKind.EmaBeta && !(v > 0 && v < 1)) return false;
            // Float32 evaluation cannot represent larger constants.
            if (Math.Abs(v) > 1e30) return false;
            trial[i] = v;
        }
        return true;
    }
}

/// <summary>In-place Cholesky solve of a small symmetric positive definite system.</summary>
internal static class Cholesky
{
    /// <summary>Solves A x = b (A row-major n×n, overwritten by its factor; b overwritten by x). False if A is not SPD.</summary>
    public static bool Solve(double[] a, double[] b, int n)
    {
        for (int j = 0; j < n; j++)
        {
            double d = a[j * n + j];
            for (int p = 0; p < j; p++) d -= a[j * n + p] * a[j * n + p];
            if (!(d > 0) || !double.IsFinite(d)) return false;
            double l = Math.Sqrt(d);
            a[j * n + j] = l;
            for (int i = j + 1; i < n; i++)
            {
                double s = a[i * n + j];
                for (int p = 0; p < j; p++) s -= a[i * n + p] * a[j * n + p];
                a[i * n + j] = s / l;
            }
        }
        for (int i = 0; i < n; i++)
        {
            double s = b[i];
            for (int p = 0; p < i; p++) s -= a[i * n + p] * b[p];
            b[i] = s / a[i * n + i];
        }
        for (int i = n - 1; i >= 0; i--)
        {
            double s = b[i];
            for (int p = i + 1; p < n; p++) s -= a[p * n + i] * b[p];
            b[i] = s / a[i * n + i];
        }
        for (int i = 0; i < n; i++)
            if (!double.IsFinite(b[i])) return false;
        return true;
    }
}
