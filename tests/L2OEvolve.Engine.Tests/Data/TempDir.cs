using System.Buffers.Binary;
using System.Text;

namespace L2OEvolve.Engine.Tests.Data;

/// <summary>A scratch directory deleted after each test, and hand-built .npy files (no numpy needed).</summary>
public abstract class DataFixture
{
    protected string Dir { get; private set; } = "";

    [SetUp]
    public void CreateDir()
    {
        Dir = Path.Combine(Path.GetTempPath(), "l2o-data-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Dir);
    }

    [TearDown]
    public void DeleteDir() => Directory.Delete(Dir, recursive: true);

    protected string PathOf(string name) => Path.Combine(Dir, name);

    /// <summary>The bytes numpy's <c>np.save</c> writes (format 1.0, or 2.0 with a 4-byte header length).</summary>
    internal static byte[] NpyBytes(string descr, string shape, byte[] payload, bool fortran = false, int version = 1)
    {
        string dict = $"{{'descr': '{descr}', 'fortran_order': {(fortran ? "True" : "False")}, 'shape': {shape}, }}";
        int lenBytes = version == 1 ? 2 : 4;
        int unpadded = 6 + 2 + lenBytes + dict.Length + 1;
        string header = dict + new string(' ', (64 - unpadded % 64) % 64) + "\n";
        var bytes = new List<byte> { 0x93 };
        bytes.AddRange("NUMPY"u8.ToArray());
        bytes.Add((byte)version);
        bytes.Add(0);
        var len = new byte[lenBytes];
        if (version == 1) BinaryPrimitives.WriteUInt16LittleEndian(len, (ushort)header.Length);
        else BinaryPrimitives.WriteUInt32LittleEndian(len, (uint)header.Length);
        bytes.AddRange(len);
        bytes.AddRange(Encoding.ASCII.GetBytes(header));
        bytes.AddRange(payload);
        return bytes.ToArray();
    }

    internal static byte[] Float64(params double[] values)
    {
        var b = new byte[values.Length * 8];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteDoubleLittleEndian(b.AsSpan(i * 8), values[i]);
        return b;
    }

    internal static byte[] Float64BigEndian(params double[] values)
    {
        var b = new byte[values.Length * 8];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteDoubleBigEndian(b.AsSpan(i * 8), values[i]);
        return b;
    }
}
