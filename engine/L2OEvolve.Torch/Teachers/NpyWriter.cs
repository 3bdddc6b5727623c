using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace L2OEvolve.Torch.Teachers;

/// <summary>
/// Writes float32 C-order <c>.npy</c> arrays (format 1.0) and the JSON sidecar naming their columns, in the dataset
/// layout of contracts.md: rows <c>[N, columns]</c> with <c>{"columns": [...]}</c>, trajectories
/// <c>[coordinates, steps, features+1]</c> with <c>{"kind": "trajectory", "columns": [...]}</c>.
/// </summary>
public static class NpyWriter
{
    /// <summary>The sidecar of <paramref name="npyPath"/>: the same path with extension <c>.json</c>.</summary>
    public static string SidecarPath(string npyPath) => Path.ChangeExtension(npyPath, ".json");

    /// <summary>Writes <paramref name="data"/> (C order) with <paramref name="shape"/> as a float32 .npy file.</summary>
    public static void Write(string path, ReadOnlySpan<float> data, IReadOnlyList<long> shape)
    {
        long count = shape.Aggregate(1L, (a, b) => a * b);
        if (count != data.Length) throw new ArgumentException($"{path}: {data.Length} values for shape ({string.Join(", ", shape)})");
        var dims = shape.Count == 1 ? $"{shape[0]}," : string.Join(", ", shape.Select(s => s.ToString(CultureInfo.InvariantCulture)));
        var header = $"{{'descr': '<f4', 'fortran_order': False, 'shape': ({dims}), }}";
        int total = 10 + header.Length + 1;
        header += new string(' ', (64 - total % 64) % 64) + "\n";
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        using var f = new BinaryWriter(File.Create(path + ".tmp"));
        f.Write((byte)0x93);
        f.Write("NUMPY"u8);
        f.Write((byte)1); f.Write((byte)0);
        f.Write((ushort)header.Length);
        f.Write(Encoding.ASCII.GetBytes(header));
        var bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(data);
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("npy writer assumes a little-endian machine");
        f.Write(bytes);
        f.Close();
        File.Move(path + ".tmp", path, overwrite: true);
    }

    /// <summary>Writes the sidecar naming the columns (and <c>"kind": "trajectory"</c> for trajectory arrays).</summary>
    public static void WriteSidecar(string npyPath, IEnumerable<string> columns, bool trajectory)
    {
        var o = new JsonObject();
        if (trajectory) o["kind"] = "trajectory";
        o["columns"] = new JsonArray([.. columns.Select(c => (JsonNode)c)]);
        File.WriteAllText(SidecarPath(npyPath), o.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }
}
