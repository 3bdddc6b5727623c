using L2OEvolve.Engine.Random;

namespace L2OEvolve.Torch.Data;

/// <summary>
/// An MNIST-format image classification set held as raw bytes (compact: 47 MB for MNIST's training split), split
/// once into a training half (minibatches) and a held-out evaluation half.
/// </summary>
/// <param name="Source">Where the data came from (the images file), for reports.</param>
/// <param name="Rows">Image height.</param>
/// <param name="Columns">Image width.</param>
/// <param name="Classes">Number of label values (max label + 1).</param>
/// <param name="TrainImages">Training-half images, row-major, <c>Rows·Columns</c> bytes each.</param>
/// <param name="TrainLabels">Training-half labels.</param>
/// <param name="EvalImages">Evaluation-half images.</param>
/// <param name="EvalLabels">Evaluation-half labels.</param>
public sealed record MnistData(
    string Source, int Rows, int Columns, int Classes,
    byte[] TrainImages, byte[] TrainLabels, byte[] EvalImages, byte[] EvalLabels)
{
    /// <summary>Pixels per image.</summary>
    public int Pixels => Rows * Columns;

    /// <summary>Images in the training half.</summary>
    public int TrainCount => TrainLabels.Length;

    /// <summary>Images in the evaluation half.</summary>
    public int EvalCount => EvalLabels.Length;

    /// <summary>Where Debian's <c>dataset-fashion-mnist</c> package installs its files.</summary>
    public const string DebianFashionMnistDir = "/usr/share/datasets/fashion-mnist";

    /// <summary>The seed of the fixed shuffle that splits the training file into halves (the paper's code uses 10).</summary>
    public const ulong SplitSeed = 10;

    private static readonly string[] ImageNames = ["train-images-idx3-ubyte", "train-images.idx3-ubyte"];
    private static readonly string[] LabelNames = ["train-labels-idx1-ubyte", "train-labels.idx1-ubyte"];

    /// <summary>
    /// Loads the training split of an MNIST-format data set from <paramref name="dataDir"/> (or, when null, from
    /// Debian's Fashion-MNIST install), shuffles it with a fixed seed and gives the first half for training and the
    /// rest for evaluation. Missing data fails with the paths looked in and how to get the data.
    /// </summary>
    public static MnistData Load(string? dataDir)
    {
        var dirs = dataDir is null ? [DebianFashionMnistDir] : new[] { dataDir };
        var imagesPath = Find(dirs, ImageNames);
        var labelsPath = Find(dirs, LabelNames);
        if (imagesPath is null || labelsPath is null)
        {
            var looked = dirs.SelectMany(d => ImageNames.Concat(LabelNames).SelectMany(n => new[] { Path.Combine(d, n), Path.Combine(d, n + ".gz") }));
            throw new FileNotFoundException(
                "MNIST-format training data not found. Looked for:\n  " + string.Join("\n  ", looked) + "\n" +
                "Get Fashion-MNIST with 'apt-get install dataset-fashion-mnist' (Debian/Ubuntu; ./run.sh does this when run as root), " +
                "or pass --data-dir pointing at a folder holding train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz] " +
                "(MNIST, Fashion-MNIST, KMNIST, ... all use this format).");
        }
        return FromArrays(IdxReader.Read(imagesPath), IdxReader.Read(labelsPath), imagesPath, labelsPath);
    }

    /// <summary>Builds the split from parsed image and label arrays, checking that they belong together.</summary>
    public static MnistData FromArrays(IdxArray images, IdxArray labels, string imagesSource, string labelsSource)
    {
        if (images.Dimensions.Length != 3)
            throw new InvalidDataException($"'{imagesSource}': images must have 3 dimensions [n, rows, columns], found [{string.Join(", ", images.Dimensions)}]");
        if (labels.Dimensions.Length != 1)
            throw new InvalidDataException($"'{labelsSource}': labels must have 1 dimension [n], found [{string.Join(", ", labels.Dimensions)}]");
        int n = images.Dimensions[0];
        if (labels.Dimensions[0] != n)
            throw new InvalidDataException($"'{imagesSource}' holds {n} images but '{labelsSource}' holds {labels.Dimensions[0]} labels");
        if (n < 2) throw new InvalidDataException($"'{imagesSource}': {n} image(s); at least 2 are needed for a training and an evaluation half");
        int pixels = images.ItemSize;

        // A fixed shuffle before halving, so the halves do not inherit any ordering of the file.
        var order = Enumerable.Range(0, n).ToArray();
        var rng = new Rng(SplitSeed);
        for (int i = n - 1; i > 0; i--)
        {
            int j = rng.NextInt(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        int nTrain = n / 2;
        (byte[] x, byte[] y) Gather(ReadOnlySpan<int> idx)
        {
            var x = new byte[idx.Length * pixels];
            var y = new byte[idx.Length];
            for (int k = 0; k < idx.Length; k++)
            {
                Array.Copy(images.Values, (long)idx[k] * pixels, x, (long)k * pixels, pixels);
                y[k] = labels.Values[idx[k]];
            }
            return (x, y);
        }
        var (trainX, trainY) = Gather(order.AsSpan(0, nTrain));
        var (evalX, evalY) = Gather(order.AsSpan(nTrain));
        int classes = labels.Values.Max() + 1;
        return new MnistData(imagesSource, images.Dimensions[1], images.Dimensions[2], classes, trainX, trainY, evalX, evalY);
    }

    private static string? Find(IEnumerable<string> dirs, IEnumerable<string> names) =>
        dirs.SelectMany(d => names.SelectMany(n => new[] { Path.Combine(d, n), Path.Combine(d, n + ".gz") }))
            .FirstOrDefault(File.Exists);
}
