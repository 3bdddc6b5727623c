using System.Collections.Immutable;
using L2OEvolve.Engine.Data;
using L2OEvolve.Engine.Random;
using L2OEvolve.Torch.Optimizees;
using static TorchSharp.torch;

namespace L2OEvolve.Torch.Teachers;

/// <summary>
/// What to record: the lag-row columns (each a feature token at a lag, lag 0 = newest) and the base features of
/// the trajectories. Built from a grammar's feature names (<c>mt_0</c>, <c>g3</c>, or plain <c>g</c>) or a list.
/// </summary>
public sealed record RecordSpec(ImmutableArray<string> Columns, ImmutableArray<(string Token, int Lag)> Lagged, ImmutableArray<string> Bases, int Memlen)
{
    /// <summary>
    /// Columns from feature names: a lagged name (<c>mt_3</c>, <c>g12</c>) is that token at that lag; a plain token
    /// (<c>g</c>, <c>mom5</c>) means all lags 0..memlen−1. Columns are ordered lag-major (index lag·F + feature;
    /// see docs/symbolic-l2o.md, 'Recording distillation data'), keeping the given spelling; <paramref name="memlen"/> defaults to the largest lag + 1.
    /// </summary>
    public static RecordSpec FromNames(IEnumerable<string> names, int? memlen = null)
    {
        var parsed = new List<(string Name, string Token, int? Lag)>();
        foreach (var name in names)
        {
            if (FeatureTokens.Canonical.Contains(name)) parsed.Add((name, name, null));
            else if (FeatureTokens.TryParseLagged(name, out var tok, out int lag)) parsed.Add((name, tok, lag));
            else throw new ArgumentException($"feature '{name}' is neither a feature token ({string.Join(", ", FeatureTokens.Canonical)}) nor token+lag like g0 or mom5_3");
        }
        if (parsed.Count == 0) throw new ArgumentException("no features to record");
        int m = memlen ?? Math.Max(1, parsed.Max(p => p.Lag ?? 0) + 1);
        if (m <= 0) throw new ArgumentException($"memlen must be positive, got {m}");
        var tooDeep = parsed.FirstOrDefault(p => p.Lag >= m);
        if (tooDeep.Name is not null) throw new ArgumentException($"feature '{tooDeep.Name}' needs lag {tooDeep.Lag}, beyond memlen {m}");
        var bases = FeatureTokens.Canonicalize(parsed.Select(p => p.Token));
        var entries = new List<(string Name, string Token, int Lag)>();
        foreach (var p in parsed)
        {
            if (p.Lag is { } l) entries.Add((p.Name, p.Token, l));
            else for (int l2 = 0; l2 < m; l2++) entries.Add((LagName(p.Token, l2), p.Token, l2));
        }
        var ordered = entries.DistinctBy(e => e.Name)
            .OrderBy(e => e.Lag).ThenBy(e => bases.IndexOf(e.Token)).ToList();
        return new([.. ordered.Select(e => e.Name)], [.. ordered.Select(e => (e.Token, e.Lag))], bases, m);
    }

    /// <summary>The default column name of a token at a lag: <c>g3</c>, or <c>mom5_3</c> when the token ends in a digit.</summary>
    public static string LagName(string token, int lag) => L2OEvolve.Engine.Expressions.LagNames.Format(token, lag);
}

/// <summary>Recording settings.</summary>
/// <param name="Samples">Rows wanted in the lag-row dataset.</param>
/// <param name="Steps">Length T of each teacher rollout.</param>
/// <param name="CoordinatesPerTensor">Coordinates sampled per parameter tensor and run (10 in the paper).</param>
/// <param name="Seed">Seed of the optimizee seeds, coordinate choice, window placement and row shuffle.</param>
/// <param name="MaxRuns">Upper bound on rollouts (a clear error when they cannot yield enough rows).</param>
public sealed record RecordOptions(int Samples, int Steps = 300, int CoordinatesPerTensor = 10, ulong Seed = 1, int MaxRuns = 1000);

/// <summary>The recorded data: lag rows (row-major, target last) and trajectories (C order [coords, steps, bases+1]).</summary>
public sealed record RecordedData(
    ImmutableArray<string> RowColumns, float[] Rows, int RowCount,
    ImmutableArray<string> TrajectoryColumns, float[] Trajectories, int Coordinates, int Steps, int Runs)
{
    /// <summary>
    /// Writes <paramref name="path"/> (lag rows, [N, columns]) and <c>X.traj.npy</c> (trajectories, [coordinates, steps,
    /// features+1]) as float32 .npy, each with its sidecar (<see cref="DataSidecar"/>), in the layout RowDataset and
    /// TrajectoryDataset read.
    /// </summary>
    public (string Rows, string Trajectories) Save(string path)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        Npy.WriteFloat32(path, [RowCount, RowColumns.Length], Rows);
        new DataSidecar(DataSidecar.RowsKind, RowColumns).Save(path);
        var traj = TrajectoryPath(path);
        Npy.WriteFloat32(traj, [Coordinates, Steps, TrajectoryColumns.Length], Trajectories);
        new DataSidecar(DataSidecar.TrajectoryKind, TrajectoryColumns).Save(traj);
        return (path, traj);
    }

    /// <summary>Where the trajectories of a recording at <paramref name="path"/> go: <c>X.npy</c> → <c>X.traj.npy</c>.</summary>
    public static string TrajectoryPath(string path) => Path.ChangeExtension(path, null) + ".traj.npy";
}

/// <summary>
/// Rolls a teacher out and records distillation data (docs/symbolic-l2o.md, 'Recording distillation data'): per sampled coordinate and step the requested
/// features and the teacher's raw output u (before the ×0.01 scale; the target column <c>y</c>).
/// </summary>
/// <remarks>
/// <code>
/// per run r (fresh optimizee seed): choose K coordinates per tensor; roll the teacher out for T steps,
///   recording features f[t, c, ·], u[t, c], g[t, c]
/// windows (sr_prep2): tS = T//M − 2, interval = T − tS·M − 2; gaps ~ tS+1 uniforms scaled to sum to interval;
///   window i = [Σgaps[..i] + M·i, … + M); kept when g at in-window index 3M/4 − 1 is non-zero
///   row = (f[end − lag, c, feature] for lag in 0..M−1, feature) ++ u[end, c]
/// stop when N rows exist; shuffle; keep N.
/// </code>
/// </remarks>
public static class Recorder
{
    /// <summary>The target column name (the teacher's raw output u).</summary>
    public const string Target = "y";

    /// <summary>Records <paramref name="options"/>.Samples rows; <paramref name="log"/> gets one line per run.</summary>
    public static RecordedData Record(TeacherNet net, IOptimizeeFamily family, RecordSpec spec, RecordOptions options, Device device, TextWriter? log = null)
    {
        int T = options.Steps, M = spec.Memlen;
        int tSample = T / M - 2;
        if (tSample < 1) throw new ArgumentException($"rollouts of {T} steps hold no window of memlen {M} (need at least {3 * M} steps)");
        int interval = T - tSample * M - 2;
        // The in-window index whose gradient must be non-zero (sr_prep2's M//4*3 − 1; negative wraps as in numpy).
        int check = M / 4 * 3 - 1;
        if (check < 0) check += M;
        var master = new Rng(options.Seed);
        var rows = new List<float[]>();
        var traj = new List<float[]>();
        int F = spec.Bases.Length, width = spec.Columns.Length + 1;
        var baseIndex = spec.Lagged.Select(l => spec.Bases.IndexOf(l.Token)).ToArray();
        int runs = 0;
        while (rows.Count < options.Samples)
        {
            if (runs >= options.MaxRuns)
                throw new InvalidOperationException($"{runs} rollouts gave only {rows.Count} of {options.Samples} rows (raise the runs limit or lower --samples)");
            var rng = master.Fork((ulong)runs);
            long seed = (long)(rng.NextUInt64() >> 1);
            using var optimizee = family.Create(seed, device);
            var run = RollOut(net, optimizee, spec.Bases, T, options.CoordinatesPerTensor, ref rng, device);
            int C = run.Coordinates;
            if (run.Diverged)
            {
                // A diverged rollout has no meaningful tail; its rows would teach the rule a blow-up.
                runs++;
                log?.WriteLine($"teacher record: run {runs} (optimizee seed {seed}) diverged; skipped");
                continue;
            }
            for (int c = 0; c < C; c++)
            {
                var gaps = new double[tSample + 1];
                for (int i = 0; i < gaps.Length; i++) gaps[i] = rng.NextDouble();
                double gs = gaps.Sum();
                int offset = 0;
                for (int i = 0; i < tSample; i++)
                {
                    offset += (int)(gaps[i] / gs * interval);
                    int start = offset + M * i, end = start + M - 1;
                    if (run.G[(start + check) * C + c] == 0f) continue;
                    var row = new float[width];
                    for (int j = 0; j < spec.Lagged.Length; j++)
                        row[j] = run.F[((end - spec.Lagged[j].Lag) * C + c) * F + baseIndex[j]];
                    row[^1] = run.U[end * C + c];
                    rows.Add(row);
                }
                var tr = new float[T * (F + 1)];
                for (int t = 0; t < T; t++)
                {
                    for (int f = 0; f < F; f++) tr[t * (F + 1) + f] = run.F[(t * C + c) * F + f];
                    tr[t * (F + 1) + F] = run.U[t * C + c];
                }
                traj.Add(tr);
            }
            runs++;
            log?.WriteLine($"teacher record: run {runs} (optimizee seed {seed}, {C} coordinates): {Math.Min(rows.Count, options.Samples)}/{options.Samples} rows");
        }
        // Fisher-Yates with our generator: same seed, same row order.
        var shuffle = master.Fork(ulong.MaxValue);
        for (int i = rows.Count - 1; i > 0; i--)
        {
            int j = shuffle.NextInt(i + 1);
            (rows[i], rows[j]) = (rows[j], rows[i]);
        }
        var flatRows = new float[options.Samples * width];
        for (int i = 0; i < options.Samples; i++) rows[i].CopyTo(flatRows, i * width);
        var flatTraj = new float[traj.Count * T * (F + 1)];
        for (int i = 0; i < traj.Count; i++) traj[i].CopyTo(flatTraj, i * T * (F + 1));
        return new RecordedData([.. spec.Columns, Target], flatRows, options.Samples, [.. spec.Bases, Target], flatTraj, traj.Count, T, runs);
    }

    private sealed record Run(float[] F, float[] U, float[] G, int Coordinates, bool Diverged);

    /// <summary>One rollout, recording the sampled coordinates (time-major: index t·C + c).</summary>
    private static Run RollOut(TeacherNet net, IOptimizee optimizee, ImmutableArray<string> bases, int T, int perTensor, ref Rng rng, Device device)
    {
        var layout = new FlatParameters(optimizee.ParameterShapes);
        var picks = new List<long>();
        long offset = 0;
        foreach (var size in layout.Sizes)
        {
            // K distinct coordinates of this tensor, drawn uniformly (redraw on repeats).
            int k = (int)Math.Min(perTensor, size);
            var chosen = new HashSet<long>();
            while (chosen.Count < k) chosen.Add(offset + (long)(rng.NextDouble() * size));
            picks.AddRange(chosen.Order());
            offset += size;
        }
        int C = picks.Count, F = bases.Length;
        var feats = new float[T * C * F];
        var us = new float[T * C];
        var gs = new float[T * C];
        var computer = new FeatureComputer(bases, net.Config.Beta1, net.Config.Beta2);
        Tensor theta, g, idx; TeacherState state; FeatureState rstate;
        using (NewDisposeScope())
        {
            theta = FlatParameters.Flatten(optimizee.InitialParameters()).to(device).detach().DetachFromDisposeScope();
            state = net.InitialState(layout.Count, device).DetachFromScopes();
            idx = tensor(picks.ToArray(), device: device).DetachFromDisposeScope();
            rstate = computer.Initial(C, device);
            foreach (var t in rstate.Tensors()) t.DetachFromDisposeScope();
            g = Rollout.Gradient(optimizee, layout, theta, 1, out _).DetachFromDisposeScope();
        }
        bool diverged = false;
        try
        {
            for (int k = 1; k <= T; k++)
            {
                using var scope = NewDisposeScope();
                Tensor next; TeacherState nextState; FeatureState nextR;
                using (no_grad())
                {
                    var (u, s) = net.Step(g, state, k);
                    var gi = g.index_select(0, idx);
                    var (f, r) = computer.Step(gi, rstate, k);
                    f.cpu().data<float>().CopyTo(feats, (k - 1) * C * F);
                    u.index_select(0, idx).cpu().data<float>().CopyTo(us, (k - 1) * C);
                    gi.cpu().data<float>().CopyTo(gs, (k - 1) * C);
                    next = theta.Plus(u.Times(net.Config.OutputScale));
                    (nextState, nextR) = (s, r);
                }
                if (k == T) break;
                var gNext = Rollout.Gradient(optimizee, layout, next, k + 1, out double loss);
                if (!double.IsFinite(loss)) { diverged = true; break; }
                theta.Dispose(); g.Dispose(); state.Dispose();
                foreach (var t in rstate.Tensors()) t.Dispose();
                theta = next.DetachFromDisposeScope();
                g = gNext.DetachFromDisposeScope();
                state = nextState.DetachFromScopes();
                foreach (var t in nextR.Tensors()) t.DetachFromDisposeScope();
                rstate = nextR;
            }
        }
        finally
        {
            theta.Dispose(); g.Dispose(); state.Dispose(); idx.Dispose();
            foreach (var t in rstate.Tensors()) t.Dispose();
        }
        return new Run(feats, us, gs, C, diverged);
    }
}
