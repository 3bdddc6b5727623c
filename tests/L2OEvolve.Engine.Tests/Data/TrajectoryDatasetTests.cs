using L2OEvolve.Engine.Data;

namespace L2OEvolve.Engine.Tests.Data;

public class TrajectoryDatasetTests : DataFixture
{
    // 2 coordinates x 3 steps x (g, m, y): value = 100*coordinate + 10*step + slice
    private static double[] Values(int coords = 2, int steps = 3, int width = 3)
    {
        var v = new double[coords * steps * width];
        for (int c = 0, k = 0; c < coords; c++)
            for (int s = 0; s < steps; s++)
                for (int f = 0; f < width; f++) v[k++] = 100 * c + 10 * s + f;
        return v;
    }

    private string Write(double[] values, string shape = "(2, 3, 3)", string? sidecar = """{"kind": "trajectory", "columns": ["g", "m", "y"]}""")
    {
        string path = PathOf("traj.npy");
        File.WriteAllBytes(path, NpyBytes("<f8", shape, Float64(values)));
        if (sidecar is not null) File.WriteAllText(path + ".json", sidecar);
        return path;
    }

    [Test]
    public void Load_ThreeD_IsTimeMajorAcrossCoordinates()
    {
        var t = TrajectoryDataset.Load(Write(Values()));
        Assert.That((t.Coordinates, t.Steps), Is.EqualTo((2, 3)));
        Assert.That(t.FeatureNames, Is.EqualTo(new[] { "g", "m" }));
        Assert.That(t.TargetName, Is.EqualTo("y"));
        // index = step * Coordinates + coordinate
        Assert.That(t.Features[0], Is.EqualTo(new float[] { 0, 100, 10, 110, 20, 120 }));
        Assert.That(t.Features[1], Is.EqualTo(new float[] { 1, 101, 11, 111, 21, 121 }));
        Assert.That(t.Target, Is.EqualTo(new float[] { 2, 102, 12, 112, 22, 122 }));
        Assert.That(t[1, 2, 1], Is.EqualTo(121f));
    }

    [Test]
    public void Load_NoSidecar_NamesX0AndY()
    {
        var t = TrajectoryDataset.Load(Write(Values(), sidecar: null));
        Assert.That(t.FeatureNames, Is.EqualTo(new[] { "x0", "x1" }));
        Assert.That(t.TargetName, Is.EqualTo("y"));
    }

    [Test]
    public void Load_NonFiniteCoordinate_ErrorWithCountOrDrop()
    {
        var v = Values();
        v[4] = double.NaN; // coordinate 0, step 1, feature m
        string path = Write(v);
        var ex = Assert.Throws<InputException>(() => TrajectoryDataset.Load(path))!;
        Assert.That(ex.Fault, Does.StartWith("1 of 2 coordinates contain NaN or Inf"));
        var t = TrajectoryDataset.Load(path, dropNonFinite: true);
        Assert.That((t.Coordinates, t.DroppedCoordinates), Is.EqualTo((1, 1)));
        Assert.That(t.Features[0], Is.EqualTo(new float[] { 100, 110, 120 }));
    }

    [Test]
    public void Load_EveryCoordinateNonFiniteAndDropped_IsAnError()
    {
        var v = Values();
        v[0] = double.NaN;
        v[9] = double.PositiveInfinity; // coordinate 1, step 0, feature g
        var ex = Assert.Throws<InputException>(() => TrajectoryDataset.Load(Write(v), dropNonFinite: true))!;
        Assert.That(ex.Fault, Does.StartWith("all 2 coordinates contain NaN or Inf"));
    }

    [Test]
    public void Load_ZeroSteps_IsAnError()
    {
        var ex = Assert.Throws<InputException>(() => TrajectoryDataset.Load(Write([], "(2, 0, 3)")))!;
        Assert.That(ex.Fault, Is.EqualTo("the array (2, 0, 3) is empty"));
    }

    [Test]
    public void Load_WrongRankOrSidecar_AreErrors()
    {
        Assert.That(Assert.Throws<InputException>(() => TrajectoryDataset.Load(Write(Values(), "(6, 3)", null)))!.Fault, Does.Contain("3-D"));
        Assert.That(Assert.Throws<InputException>(() => TrajectoryDataset.Load(Write(Values(), sidecar: """{"columns": ["g", "m", "y"]}""")))!.Fault,
            Does.Contain("kind"));
        Assert.That(Assert.Throws<InputException>(() => TrajectoryDataset.Load(Write(Values(), sidecar: """{"kind": "trajectory", "columns": ["g", "y"]}""")))!.Fault,
            Does.Contain("names 2 columns but the last axis has 3"));
        Assert.That(Assert.Throws<InputException>(() => TrajectoryDataset.Load(Write(Values(), sidecar: """{"kind": "tape", "columns": []}""")))!.Location,
            Is.EqualTo("$.kind"));
    }

    [Test]
    public void Save_ThenLoad_RoundTrips()
    {
        var t = TrajectoryDataset.Load(Write(Values()));
        string path = PathOf("copy.npy");
        t.Save(path);
        Assert.That(File.Exists(DataSidecar.PathFor(path)), Is.True);
        var back = TrajectoryDataset.Load(path);
        Assert.That(back.FeatureNames, Is.EqualTo(t.FeatureNames));
        Assert.That(back.Features, Is.EqualTo(t.Features));
        Assert.That(back.Target, Is.EqualTo(t.Target));
        Assert.That(back.TargetName, Is.EqualTo("y"));
    }

    [Test]
    public void Select_Features_ReordersAndRejectsUnknown()
    {
        var t = TrajectoryDataset.Load(Write(Values()));
        var s = t.Select(["m"]);
        Assert.That(s.FeatureNames, Is.EqualTo(new[] { "m" }));
        Assert.That(s.Features[0], Is.SameAs(t.Features[1]));
        Assert.That(Assert.Throws<InputException>(() => t.Select(["v"]))!.Fault, Is.EqualTo("no feature 'v'; the features are g, m"));
    }
}
