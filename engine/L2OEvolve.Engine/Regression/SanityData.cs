using System.Collections.Immutable;
using System.Globalization;
using L2OEvolve.Engine.Data;
using L2OEvolve.Engine.Random;

namespace L2OEvolve.Engine.Regression;

/// <summary>The sanity problems: generator and the exact definitions of the five targets.</summary>
/// <remarks>
/// g follows a noisy AR(1), g_t = 0.8 g_{t-1} + 0.6 ε_t with ε ~ N(0, 1) (unit stationary variance), started from
/// its stationary law. Each sequence runs <see cref="BurnIn"/> steps before recording so that the moving averages
/// have forgotten their zero start; the trajectories keep those steps (the ema rules run along them), the tables
/// start after them. Targets, with m and v zero-initialised at the first step:
/// <code>
/// sgd       = -0.01 g_t
/// lagsum    = Σ_{i=0..10} (1 - 0.1 i) g_{t-i}
/// mixed     = g_t² + g_{t-1} + 2 g_{t-2} + exp(g_{t-4})
/// momentum  = m_t,  m_t = g_t + 0.6 m_{t-1}                 (= 2.5 · ema(0.6, g))
/// adam      = m_t / (sqrt(v_t) + 1e-8),  m_t = 0.9 m_{t-1} + 0.1 g_t,  v_t = 0.9 v_{t-1} + 0.1 g_t²
///                                                          (= ema(0.9, g) / (sqrt(ema(0.9, g·g)) + 1e-8))
/// </code>
/// Adam uses β1 = β2 = 0.9 without bias correction ("Adam(0.9)" in the paper's table), so 20 lags carry 88% of its
/// weight and a lag formula cannot be exact, while the stateful form can.
/// </remarks>
public static class SanityData
{
    /// <summary>Lags of g in the tables (g0..g19).</summary>
    public const int Lags = 20;
    /// <summary>Steps run before recording starts, so the moving averages forget their zero start.</summary>
    public const int BurnIn = 30;

    /// <summary>The target names, in the order the tables are written.</summary>
    public static readonly ImmutableArray<string> Targets = ["sgd", "lagsum", "mixed", "momentum", "adam"];

    /// <summary>Writes <c>NAME.csv</c> (g0..g19, y) per target and <c>momentum_traj.npy</c>, <c>adam_traj.npy</c> (g → y); returns one line per file.</summary>
    public static IReadOnlyList<string> Write(string dir, ulong seed, int coordinates, int steps)
    {
        Directory.CreateDirectory(dir);
        int total = BurnIn + steps;
        var g = Gradients(seed, coordinates, total);
        var lines = new List<string>();
        var names = Enumerable.Range(0, Lags).Select(k => "g" + k.ToString(CultureInfo.InvariantCulture)).Append("y").ToImmutableArray();
        foreach (var target in Targets)
        {
            var y = Target(target, g);
            int rows = coordinates * steps;
            var columns = new float[Lags + 1][];
            for (int j = 0; j <= Lags; j++) columns[j] = new float[rows];
            int r = 0;
            for (int c = 0; c < coordinates; c++)
                for (int t = BurnIn; t < total; t++, r++)
                {
                    for (int k = 0; k < Lags; k++) columns[k][r] = (float)(t - k >= 0 ? g[c][t - k] : 0.0);
                    columns[Lags][r] = (float)y[c][t];
                }
            string path = Path.Combine(dir, target + ".csv");
            new RowDataset(names, columns, rows).Save(path);
            lines.Add($"{path}: {rows} rows, g0..g19 -> y = {target}");
        }
        foreach (var target in new[] { "momentum", "adam" })
        {
            var y = Target(target, g);
            var feature = new float[coordinates * total];
            var targetValues = new float[coordinates * total];
            for (int t = 0; t < total; t++)
                for (int c = 0; c < coordinates; c++)
                {
                    feature[t * coordinates + c] = (float)g[c][t];
                    targetValues[t * coordinates + c] = (float)y[c][t];
                }
            string path = Path.Combine(dir, target + "_traj.npy");
            new TrajectoryDataset(coordinates, total, ["g"], [feature], targetValues, "y").Save(path);
            lines.Add($"{path}: {coordinates} coordinates x {total} steps, g -> y = {target}");
        }
        return lines;
    }

    /// <summary>AR(1) sequences g[c][t], one independent generator stream per coordinate.</summary>
    public static double[][] Gradients(ulong seed, int coordinates, int steps)
    {
        var master = new Rng(seed);
        var g = new double[coordinates][];
        for (int c = 0; c < coordinates; c++)
        {
            var rng = master.Fork((ulong)c);
            g[c] = new double[steps];
            double prev = rng.NextGaussian();
            for (int t = 0; t < steps; t++) g[c][t] = prev = 0.8 * prev + 0.6 * rng.NextGaussian();
        }
        return g;
    }

    /// <summary>The named target along each sequence (see the remarks for definitions).</summary>
    public static double[][] Target(string name, double[][] g) => g.Select(seq =>
    {
        var y = new double[seq.Length];
        double m = 0, v = 0;
        double G(int t) => t >= 0 ? seq[t] : 0.0;
        for (int t = 0; t < seq.Length; t++)
        {
            switch (name)
            {
                case "sgd": y[t] = -0.01 * seq[t]; break;
                case "lagsum":
                    for (int i = 0; i <= 10; i++) y[t] += (1 - 0.1 * i) * G(t - i);
                    break;
                case "mixed": y[t] = seq[t] * seq[t] + G(t - 1) + 2 * G(t - 2) + Math.Exp(G(t - 4)); break;
                case "momentum": y[t] = m = seq[t] + 0.6 * m; break;
                case "adam":
                    m = 0.9 * m + 0.1 * seq[t];
                    v = 0.9 * v + 0.1 * seq[t] * seq[t];
                    y[t] = m / (Math.Sqrt(v) + 1e-8);
                    break;
                default: throw new ArgumentException($"unknown sanity target '{name}'", nameof(name));
            }
        }
        return y;
    }).ToArray();
}
