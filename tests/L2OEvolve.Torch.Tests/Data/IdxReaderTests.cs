using L2OEvolve.Torch.Data;

namespace L2OEvolve.Torch.Tests.Data;

public class IdxReaderTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp()
    {
        _dir = Path.Combine(Path.GetTempPath(), "l2o-idx-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [TestCase("images-idx3-ubyte")]
    [TestCase("images-idx3-ubyte.gz")]
    public void Read_WrittenFile_RoundTripsDimensionsAndValues(string name)
    {
        var path = Path.Combine(_dir, name);
        var values = Enumerable.Range(0, 2 * 3 * 4).Select(i => (byte)(i * 5)).ToArray();
        IdxReader.Write(path, new IdxArray([2, 3, 4], values));

        var read = IdxReader.Read(path);

        Assert.That(read.Dimensions, Is.EqualTo(new[] { 2, 3, 4 }));
        Assert.That(read.Values, Is.EqualTo(values));
        Assert.That(read.ItemSize, Is.EqualTo(12));
    }

    [Test]
    public void Read_GzipDataUnderPlainName_IsDetectedByMagicBytes()
    {
        var gz = Path.Combine(_dir, "x.gz");
        IdxReader.Write(gz, new IdxArray([3], [1, 2, 3]));
        var plain = Path.Combine(_dir, "x-idx1-ubyte");
        File.Move(gz, plain);

        Assert.That(IdxReader.Read(plain).Values, Is.EqualTo(new byte[] { 1, 2, 3 }));
    }

    [Test]
    public void Parse_TruncatedValues_NamesSourceAndCounts()
    {
        byte[] bytes = [0, 0, 8, 1, 0, 0, 0, 5, 1, 2, 3];
        var ex = Assert.Throws<InvalidDataException>(() => IdxReader.Parse(bytes, "labels.idx"));
        Assert.That(ex!.Message, Does.Contain("labels.idx").And.Contain("need 5").And.Contain("truncated"));
    }

    [Test]
    public void Parse_FloatElementType_IsRejectedNamingTheType()
    {
        byte[] bytes = [0, 0, 0x0D, 1, 0, 0, 0, 0];
        var ex = Assert.Throws<InvalidDataException>(() => IdxReader.Parse(bytes, "f.idx"));
        Assert.That(ex!.Message, Does.Contain("0x0d"));
    }

    [Test]
    public void Parse_BadMagic_SaysNotIdx()
    {
        var ex = Assert.Throws<InvalidDataException>(() => IdxReader.Parse("PK\u0003\u0004"u8, "zip"));
        Assert.That(ex!.Message, Does.Contain("not an IDX file"));
    }

    [Test]
    public void Read_MissingFile_ThrowsFileNotFoundWithPath()
    {
        var path = Path.Combine(_dir, "nope");
        var ex = Assert.Throws<FileNotFoundException>(() => IdxReader.Read(path));
        Assert.That(ex!.Message, Does.Contain(path));
    }
}
