using System.Text;
using System.Text.Json.Nodes;
using L2OEvolve.Engine.Random;
using L2OEvolve.Torch.Optimizees;
using L2OEvolve.Torch.Teachers;
using TorchSharp;

namespace L2OEvolve.Torch.Tests.Teachers;

public class RecorderTests
{
    private string _dir = "";

    [OneTimeSetUp]
    public void OneThread() => torch.set_num_threads(1);

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
    public void Save_WritesNpyWithShapeHeaderAndSidecars()
    {
        var data = new RecordedData(["g0", "g1", "y"], [1, 2, 3, 4, 5, 6], 2, ["g", "y"], new float[2 * 4 * 2], 2, 4, 1);
        var (rows, traj) = data.Save(Path.Combine(_dir, "d.npy"));
        var bytes = File.ReadAllBytes(rows);
        Assert.That(bytes[..6], Is.EqualTo(new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y' }));
        int headerLength = BitConverter.ToUInt16(bytes, 8);
        var header = Encoding.ASCII.GetString(bytes, 10, headerLength);
        Assert.That((10 + headerLength) % 64, Is.EqualTo(0));
        Assert.That(header, Does.Contain("'descr': '<f4'").And.Contain("'shape': (2, 3)"));
        Assert.That(BitConverter.ToSingle(bytes, 10 + headerLength + 5 * 4), Is.EqualTo(6f));
        var sidecar = JsonNode.Parse(File.ReadAllText(Path.Combine(_dir, "d.json")))!;
        Assert.That(sidecar["columns"]!.AsArray().Select(c => c!.GetValue<string>()), Is.EqualTo(new[] { "g0", "g1", "y" }));
        Assert.That(traj, Does.EndWith("d.traj.npy"));
        var trajSidecar = JsonNode.Parse(File.ReadAllText(Path.Combine(_dir, "d.traj.json")))!;
        Assert.That(trajSidecar["kind"]!.GetValue<string>(), Is.EqualTo("trajectory"));
        Assert.That(Encoding.ASCII.GetString(File.ReadAllBytes(traj)), Does.Contain("'shape': (2, 4, 2)"));
    }
}
