using L2OEvolve.Torch.Data;

namespace L2OEvolve.Torch.Tests;

/// <summary>Writes a tiny MNIST-format data set into a fresh temporary folder, so no test needs the real data.</summary>
internal sealed class TinyMnist : IDisposable
{
    public string Dir { get; }

    public TinyMnist(int n = 40, int rows = 28, int columns = 28, bool gzip = true, int classes = 10)
    {
        Dir = Path.Combine(Path.GetTempPath(), "l2o-tiny-mnist-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Dir);
        var pixels = new byte[n * rows * columns];
        var labels = new byte[n];
        for (int i = 0; i < n; i++)
        {
            labels[i] = (byte)(i % classes);
            // Each class lights a different band of rows, so the task is learnable.
            for (int r = 0; r < rows; r++)
                for (int c = 0; c < columns; c++)
                    pixels[(i * rows + r) * columns + c] = (byte)((r % classes == labels[i] ? 200 : 0) + (i * 7 + r * 3 + c) % 50);
        }
        string ext = gzip ? ".gz" : "";
        IdxReader.Write(Path.Combine(Dir, "train-images-idx3-ubyte" + ext), new IdxArray([n, rows, columns], pixels));
        IdxReader.Write(Path.Combine(Dir, "train-labels-idx1-ubyte" + ext), new IdxArray([n], labels));
    }

    public void Dispose() => Directory.Delete(Dir, recursive: true);
}
