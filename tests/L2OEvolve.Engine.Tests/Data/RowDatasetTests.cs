using L2OEvolve.Engine.Data;

namespace L2OEvolve.Engine.Tests.Data;

public class RowDatasetTests : DataFixture
{
    private string WriteCsv(string text)
    {
        string path = PathOf("d.csv");
        File.WriteAllText(path, text);
        return path;
    }

    [Test]
    public void Load_Csv_ReadsHeaderAndColumns()
    {
        var d = RowDataset.Load(WriteCsv("g0,\"g1\",y\n1,2,3\n4,5.5,-6e-3\n\n"));
        Assert.That(d.ColumnNames, Is.EqualTo(new[] { "g0", "g1", "y" }));
        Assert.That(d.Rows, Is.EqualTo(2));
        Assert.That(d.Column("g1"), Is.EqualTo(new[] { 2f, 5.5f }));
        Assert.That(d.Column("y")[1], Is.EqualTo(-6e-3f));
    }

    [Test]
    public void Load_CsvBadNumber_NamesLineAndColumn()
    {
        var path = WriteCsv("a,b\n1,2\n3,abc\n");
        var ex = Assert.Throws<InputException>(() => RowDataset.Load(path))!;
        Assert.That(ex.Message, Is.EqualTo($"{path}: line 3: 'abc' in column 'b' is not a number"));
    }

    [Test]
    public void Load_SemicolonSeparatedCsv_SaysOnlyCommasSeparate()
    {
        var ex = Assert.Throws<InputException>(() => RowDataset.Load(WriteCsv("a;b\n1;2\n")))!;
        Assert.That(ex.Fault, Is.EqualTo("'1;2' in column 'a;b' is not a number (fields are separated by commas only)"));
    }

    [Test]
    public void Load_CsvWrongFieldCount_NamesLine()
    {
        var path = WriteCsv("a,b\n1,2\n3\n");
        var ex = Assert.Throws<InputException>(() => RowDataset.Load(path))!;
        Assert.That(ex.Location, Is.EqualTo("line 3"));
        Assert.That(ex.Fault, Does.Contain("expected 2 fields, found 1"));
    }

    [Test]
    public void Select_Defaults_AllButLastAsFeaturesLastAsTarget()
    {
        var d = RowDataset.Load(WriteCsv("a,b,c\n1,2,3\n4,5,6\n"));
        var (x, y, names) = d.Select();
        Assert.That(names, Is.EqualTo(new[] { "a", "b" }));
        Assert.That(y, Is.EqualTo(new[] { 3f, 6f }));
        Assert.That(x[1], Is.EqualTo(new[] { 2f, 5f }));
    }

    [Test]
    public void Select_NamedColumns_InGivenOrder()
    {
        var d = RowDataset.Load(WriteCsv("a,b,c\n1,2,3\n4,5,6\n"));
        var s = d.Select(["c", "a"], "b");
        Assert.That(s.Names, Is.EqualTo(new[] { "c", "a" }));
        Assert.That(s.X[0], Is.EqualTo(new[] { 3f, 6f }));
        Assert.That(s.Y, Is.EqualTo(new[] { 2f, 5f }));
        Assert.That(s.TargetName, Is.EqualTo("b"));
    }

    [Test]
    public void Select_UnknownColumn_ListsTheColumns()
    {
        var d = RowDataset.Load(WriteCsv("a,b\n1,2\n"));
        var ex = Assert.Throws<InputException>(() => d.Select(["zz"], "b"))!;
        Assert.That(ex.Fault, Is.EqualTo("no column 'zz'; the columns are a, b"));
        Assert.Throws<InputException>(() => d.Select(["a"], "a"));
    }

    [Test]
    public void Select_NonFiniteRows_ErrorWithCountOrDropWithCount()
    {
        var d = RowDataset.Load(WriteCsv("a,b,unused\n1,2,nan\nnan,3,0\n4,inf,0\n5,6,0\n7,,0\n"));
        var ex = Assert.Throws<InputException>(() => d.Select(["a"], "b"))!;
        Assert.That(ex.Fault, Does.StartWith("3 of 5 rows have NaN or Inf").And.Contain("first: row 2").And.Contain("--drop-nonfinite"));
        var s = d.Select(["a"], "b", dropNonFinite: true);
        Assert.That(s.DroppedRows, Is.EqualTo(3));
        Assert.That(s.X[0], Is.EqualTo(new[] { 1f, 5f }));
        Assert.That(s.Y, Is.EqualTo(new[] { 2f, 6f }));
    }

    [Test]
    public void Select_HeaderOnlyCsv_IsAnErrorNotAPerfectFit()
    {
        var d = RowDataset.Load(WriteCsv("a,b\n"));
        Assert.That(Assert.Throws<InputException>(() => d.Select(["a"], "b"))!.Fault, Is.EqualTo("the dataset has no rows"));
    }

    [Test]
    public void Select_EveryRowNonFiniteAndDropped_IsAnError()
    {
        var d = RowDataset.Load(WriteCsv("a,b\nnan,1\n2,inf\n"));
        Assert.That(Assert.Throws<InputException>(() => d.Select(["a"], "b", dropNonFinite: true))!.Fault,
            Does.StartWith("all 2 rows have NaN or Inf"));
    }

    [Test]
    public void Load_NpyWithSidecar_NamesColumns()
    {
        string path = PathOf("SR_Xy.npy");
        File.WriteAllBytes(path, NpyBytes("<f8", "(2, 3)", Float64(1, 2, 3, 4, 5, 6)));
        File.WriteAllText(path + ".json", """{"columns": ["g0", "t", "y"]}""");
        var d = RowDataset.Load(path);
        Assert.That(d.ColumnNames, Is.EqualTo(new[] { "g0", "t", "y" }));
        Assert.That(d.Column("t"), Is.EqualTo(new[] { 2f, 5f }));
    }

    [Test]
    public void Load_NpyWithoutSidecar_NamesColumnsX0Onwards()
    {
        string path = PathOf("plain.npy");
        File.WriteAllBytes(path, NpyBytes("<f8", "(1, 3)", Float64(1, 2, 3)));
        Assert.That(RowDataset.Load(path).ColumnNames, Is.EqualTo(new[] { "x0", "x1", "x2" }));
    }

    [Test]
    public void Load_SidecarBesideStem_IsAlsoFound()
    {
        string path = PathOf("stem.npy");
        File.WriteAllBytes(path, NpyBytes("<f8", "(1, 2)", Float64(1, 2)));
        File.WriteAllText(PathOf("stem.json"), """{"kind": "rows", "columns": ["p", "q"]}""");
        Assert.That(RowDataset.Load(path).ColumnNames, Is.EqualTo(new[] { "p", "q" }));
    }

    [Test]
    public void Load_SidecarWrongCount_IsAnError()
    {
        string path = PathOf("m.npy");
        File.WriteAllBytes(path, NpyBytes("<f8", "(1, 2)", Float64(1, 2)));
        File.WriteAllText(path + ".json", """{"columns": ["only"]}""");
        Assert.That(Assert.Throws<InputException>(() => RowDataset.Load(path))!.Fault,
            Is.EqualTo("the sidecar names 1 columns but the array has 2"));
    }

    [Test]
    public void Load_SidecarWrongCount_MessageNamesDataFileAndSidecar()
    {
        string path = PathOf("s.npy");
        File.WriteAllBytes(path, NpyBytes("<f8", "(1, 2)", Float64(1, 2)));
        File.WriteAllText(PathOf("s.json"), """{"columns": ["only"]}""");
        var ex = Assert.Throws<InputException>(() => RowDataset.Load(path))!;
        Assert.That((ex.File, ex.Location), Is.EqualTo((path, "sidecar s.json")));
    }

    [Test]
    public void Load_ThreeDimensionalNpy_PointsToTrajectories()
    {
        string path = PathOf("traj.npy");
        File.WriteAllBytes(path, NpyBytes("<f8", "(1, 1, 2)", Float64(1, 2)));
        Assert.That(Assert.Throws<InputException>(() => RowDataset.Load(path))!.Fault, Does.Contain("trajectory"));
    }

    [Test]
    public void Load_UnknownExtension_IsAnError() =>
        Assert.Throws<InputException>(() => RowDataset.Load(PathOf("data.parquet")));

    [TestCase("t.csv")]
    [TestCase("t.npy")]
    public void Save_ThenLoad_RoundTrips(string file)
    {
        var d = new RowDataset(["g0", "g1", "y"], [[1.5f, -2e-7f], [0f, 3f], [float.NaN, 1f / 3]], 2);
        string path = PathOf(file);
        d.Save(path);
        var back = RowDataset.Load(path);
        Assert.That(back.ColumnNames, Is.EqualTo(d.ColumnNames));
        for (int j = 0; j < 3; j++)
            Assert.That(back.Columns[j].Select(BitConverter.SingleToInt32Bits), Is.EqualTo(d.Columns[j].Select(BitConverter.SingleToInt32Bits)));
    }

    [Test]
    public void Constructor_InconsistentColumns_Throw()
    {
        Assert.Throws<ArgumentException>(() => new RowDataset(["a", "b"], [[1f], [1f, 2f]], 1));
        Assert.Throws<ArgumentException>(() => new RowDataset(["a", "a"], [[1f], [2f]], 1));
    }
}
