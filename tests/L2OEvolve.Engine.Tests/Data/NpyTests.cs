using System.Text;
using L2OEvolve.Engine.Data;

namespace L2OEvolve.Engine.Tests.Data;

public class NpyTests : DataFixture
{
    [Test]
    public void Read_Float64TwoD_ConvertsToFloat32InCOrder()
    {
        string path = PathOf("a.npy");
        File.WriteAllBytes(path, NpyBytes("<f8", "(2, 3)", Float64(1, 2, 3, 4, 5, 6.5)));
        var a = Npy.Read(path);
        Assert.That(a.Shape, Is.EqualTo(new[] { 2, 3 }));
        Assert.That(a.Data, Is.EqualTo(new float[] { 1, 2, 3, 4, 5, 6.5f }));
    }

    [Test]
    public void Read_BigEndianAndVersion2_AreSupported()
    {
        string path = PathOf("b.npy");
        File.WriteAllBytes(path, NpyBytes(">f8", "(3,)", Float64BigEndian(-1, 0.25, 1e10), version: 2));
        var a = Npy.Read(path);
        Assert.That(a.Shape, Is.EqualTo(new[] { 3 }));
        Assert.That(a.Data, Is.EqualTo(new float[] { -1, 0.25f, 1e10f }));
    }

    [Test]
    public void WriteFloat32_ThenRead_RoundTripsBitsAndShape()
    {
        string path = PathOf("w.npy");
        var values = new float[24];
        for (int i = 0; i < values.Length; i++) values[i] = MathF.Sin(i) * 1e-3f;
        values[5] = float.NaN;
        Npy.WriteFloat32(path, [2, 3, 4], values);
        var a = Npy.Read(path);
        Assert.That(a.Shape, Is.EqualTo(new[] { 2, 3, 4 }));
        Assert.That(a.Data.Select(BitConverter.SingleToInt32Bits), Is.EqualTo(values.Select(BitConverter.SingleToInt32Bits)));
    }

    [Test]
    public void WriteFloat32_Header_MatchesNumpyLayout()
    {
        string path = PathOf("h.npy");
        Npy.WriteFloat32(path, [5], new float[5]);
        var bytes = File.ReadAllBytes(path);
        Assert.That(bytes[..8], Is.EqualTo(new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0 }));
        int headerLength = bytes[8] | bytes[9] << 8;
        Assert.That((10 + headerLength) % 64, Is.Zero, "data starts 64-byte aligned, as numpy writes it");
        string header = Encoding.ASCII.GetString(bytes, 10, headerLength);
        Assert.That(header, Does.StartWith("{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }"));
        Assert.That(header, Does.EndWith("\n"));
        Assert.That(bytes.Length, Is.EqualTo(10 + headerLength + 20));
    }

    [Test]
    public void Read_FortranOrder_IsAClearError()
    {
        string path = PathOf("f.npy");
        File.WriteAllBytes(path, NpyBytes("<f8", "(2, 2)", Float64(1, 2, 3, 4), fortran: true));
        var ex = Assert.Throws<InputException>(() => Npy.Read(path))!;
        Assert.That(ex.File, Is.EqualTo(path));
        Assert.That(ex.Fault, Does.Contain("Fortran-order"));
    }

    [Test]
    public void Read_IntegerDtype_IsAClearError()
    {
        string path = PathOf("i.npy");
        File.WriteAllBytes(path, NpyBytes("<i8", "(2,)", new byte[16]));
        var ex = Assert.Throws<InputException>(() => Npy.Read(path))!;
        Assert.That(ex.Fault, Does.Contain("unsupported dtype '<i8'"));
    }

    [Test]
    public void Read_TruncatedData_SaysHowMuchIsMissing()
    {
        string path = PathOf("t.npy");
        var full = NpyBytes("<f8", "(10, 2)", Float64(new double[20]));
        File.WriteAllBytes(path, full[..^12]);
        var ex = Assert.Throws<InputException>(() => Npy.Read(path))!;
        Assert.That(ex.Fault, Does.Contain("truncated").And.Contain("20 values (160 bytes)").And.Contain("148 bytes"));
    }

    [Test]
    public void Read_TruncatedNonSeekableStream_SaysHowMuchIsMissing()
    {
        var full = NpyBytes("<f8", "(10, 2)", Float64(new double[20]));
        var packed = new MemoryStream();
        using (var gz = new System.IO.Compression.GZipStream(packed, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
            gz.Write(full, 0, full.Length - 12);
        packed.Position = 0;
        using var stream = new System.IO.Compression.GZipStream(packed, System.IO.Compression.CompressionMode.Decompress);
        var ex = Assert.Throws<InputException>(() => Npy.Read(stream, "s.npy"))!;
        Assert.That(ex.Fault, Does.Contain("20 values (160 bytes)").And.Contain("148 bytes"));
    }

    [TestCase("(1000000000,)")]
    [TestCase("(2000000000, 2000000000, 2000000000)")]
    public void Read_HugeShapeOnShortFile_FailsWithoutAllocating(string shape)
    {
        string path = PathOf("h.npy");
        File.WriteAllBytes(path, NpyBytes("<f4", shape, Float64(1)));
        var ex = Assert.Throws<InputException>(() => Npy.Read(path))!;
        Assert.That(ex.Fault, Does.Contain("truncated").Or.Contain("too large"));
    }

    [Test]
    public void Read_TrailingBytes_AreAnError()
    {
        string path = PathOf("x.npy");
        File.WriteAllBytes(path, NpyBytes("<f8", "(2,)", Float64(1, 2, 3)));
        Assert.That(Assert.Throws<InputException>(() => Npy.Read(path))!.Fault, Does.Contain("unexpected bytes"));
    }

    [Test]
    public void Read_NotNpyOrMissing_AreErrors()
    {
        string path = PathOf("n.npy");
        File.WriteAllText(path, "a,b\n1,2\n");
        Assert.That(Assert.Throws<InputException>(() => Npy.Read(path))!.Fault, Does.Contain("not a .npy file"));
        Assert.That(Assert.Throws<InputException>(() => Npy.Read(PathOf("missing.npy")))!.Fault, Does.Contain("not found"));
        File.WriteAllBytes(path, NpyBytes("<f8", "(2,)", Float64(1, 2))[..20]);
        Assert.That(Assert.Throws<InputException>(() => Npy.Read(path))!.Fault, Does.Contain("truncated"));
    }
}
