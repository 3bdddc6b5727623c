using L2OEvolve.Engine.Data;
using L2OEvolve.Engine.Random;
using L2OEvolve.Torch.Optimizees;
using L2OEvolve.Torch.Teachers;
using TorchSharp;

namespace L2OEvolve.Torch.Tests.Teachers;

public class RecorderTests
{
    private string _dir = "";

    [SetUp]
    public void TempDir() => _dir = Path.Combine(Path.GetTempPath(), "l2o-record-" + Guid.NewGuid().ToString("N"));

    [TearDown]
    public void Clean()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, true);
    }

    [Test]
    public void FromNames_GrammarStyleNames_AreLagMajorInTokenOrder()
    {
        var spec = RecordSpec.FromNames(["mt_0", "mt_1", "g_0", "g_1", "mom5_1"]);
        Assert.That(spec.Columns, Is.EqualTo(new[] { "mt_0", "g_0", "mt_1", "g_1", "mom5_1" }));
        Assert.That(spec.Memlen, Is.EqualTo(2));
        Assert.That(spec.Bases, Is.EqualTo(new[] { "mt", "g", "mom5" }));
    }

    [Test]
    public void FromNames_PlainTokens_ExpandToAllLags()
    {
        var spec = RecordSpec.FromNames(["gt", "mom5"], 3);
        Assert.That(spec.Columns, Is.EqualTo(new[] { "gt0", "mom5_0", "gt1", "mom5_1", "gt2", "mom5_2" }));
    }

    [Test]
    public void FromNames_UnknownName_ThrowsNamingIt()
    {
        var ex = Assert.Throws<ArgumentException>(() => RecordSpec.FromNames(["mt_0", "adam_3"]));
        Assert.That(ex!.Message, Does.Contain("adam_3"));
    }

    [Test]
    public void Record_Quadratic_EveryRowIsAWindowOfATrajectoryAndTargetIsTheRawOutput()
    {
        var rng = new Rng(4);
        using var net = new TeacherNet(TeacherConfig.Preset("rnnprop"), ref rng);
        var spec = RecordSpec.FromNames(["mt", "g"], 5);
        var data = Recorder.Record(net, OptimizeeRegistry.Family("quadratic"), spec, new RecordOptions(60, Steps: 30, CoordinatesPerTensor: 4), torch.CPU);
        Assert.That(data.RowCount, Is.EqualTo(60));
        Assert.That(data.RowColumns, Is.EqualTo(new[] { "mt0", "g0", "mt1", "g1", "mt2", "g2", "mt3", "g3", "mt4", "g4", "y" }));
        Assert.That(data.TrajectoryColumns, Is.EqualTo(new[] { "mt", "g", "y" }));
        int T = data.Steps, W = data.RowColumns.Length;
        for (int r = 0; r < data.RowCount; r++)
        {
            var row = data.Rows.AsSpan(r * W, W);
            bool found = false;
            for (int c = 0; c < data.Coordinates && !found; c++)
                for (int end = 4; end < T && !found; end++)
                {
                    float Traj(int t, int f) => data.Trajectories[(c * T + t) * 3 + f];
                    found = Traj(end, 2) == row[^1];
                    for (int lag = 0; lag < 5 && found; lag++)
                        found = Traj(end - lag, 0) == row[lag * 2] && Traj(end - lag, 1) == row[lag * 2 + 1];
                }
            Assert.That(found, Is.True, $"row {r} is no window of any trajectory");
        }
        // The trajectory target is the network's raw output: replay coordinate 0's gradient history is not needed,
        // the tanh bound of RNNprop is enough to tell raw output from the ×0.01 update.
        Assert.That(data.Trajectories.Where((_, i) => i % 3 == 2).Max(Math.Abs), Is.GreaterThan(0.02f).And.LessThanOrEqualTo(1f));
    }

    [Test]
    public void Record_SameSeed_SameBytes()
    {
        var rng = new Rng(4);
        using var net = new TeacherNet(TeacherConfig.Preset("rp-s"), ref rng);
        var spec = RecordSpec.FromNames(["mt", "gt"], 4);
        var a = Recorder.Record(net, OptimizeeRegistry.Family("quadratic"), spec, new RecordOptions(40, Steps: 24, Seed: 9), torch.CPU);
        var b = Recorder.Record(net, OptimizeeRegistry.Family("quadratic"), spec, new RecordOptions(40, Steps: 24, Seed: 9), torch.CPU);
        Assert.That(b.Rows, Is.EqualTo(a.Rows));
        Assert.That(b.Trajectories, Is.EqualTo(a.Trajectories));
    }

    [Test]
    public void Save_RoundTripsThroughTheDatasetReaders()
    {
        var data = new RecordedData(["g0", "g1", "y"], [1, 2, 3, 4, 5, 6], 2, ["g", "y"], [.. Enumerable.Range(0, 16).Select(i => (float)i)], 2, 4, 1);
        var (rows, traj) = data.Save(Path.Combine(_dir, "d.npy"));
        var r = RowDataset.Load(rows);
        Assert.That(r.ColumnNames, Is.EqualTo(new[] { "g0", "g1", "y" }));
        Assert.That(r.DefaultTarget, Is.EqualTo("y"));
        Assert.That(r.Column("g1"), Is.EqualTo(new[] { 2f, 5f }));
        Assert.That(traj, Does.EndWith("d.traj.npy"));
        var t = TrajectoryDataset.Load(traj);
        Assert.That((t.Coordinates, t.Steps), Is.EqualTo((2, 4)));
        Assert.That(t.FeatureNames, Is.EqualTo(new[] { "g" }));
        // Stored [coordinate, step, column]; read time-major: feature g of coordinate 1 at step 2 is value (1·4+2)·2.
        Assert.That(t.Features[0][2 * 2 + 1], Is.EqualTo(12f));
        Assert.That(t.Target[2 * 2 + 1], Is.EqualTo(13f));
    }
}
