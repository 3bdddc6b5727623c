using L2OEvolve.Torch.Data;

namespace L2OEvolve.Torch.Tests.Data;

public class MnistDataTests
{
    [Test]
    public void Load_TinySet_SplitsIntoDisjointHalvesKeepingEveryImage()
    {
        using var tiny = new TinyMnist(n: 41, rows: 6, columns: 5, gzip: false);

        var data = MnistData.Load(tiny.Dir);

        Assert.That((data.Rows, data.Columns, data.Classes), Is.EqualTo((6, 5, 10)));
        Assert.That((data.TrainCount, data.EvalCount), Is.EqualTo((20, 21)));
        Assert.That(data.TrainImages, Has.Length.EqualTo(20 * 30));
        var all = data.TrainLabels.Concat(data.EvalLabels).Order().ToArray();
        Assert.That(all, Is.EqualTo(Enumerable.Range(0, 41).Select(i => (byte)(i % 10)).Order().ToArray()));
    }

    [Test]
    public void Load_Twice_GivesTheSameSplit()
    {
        using var tiny = new TinyMnist(n: 30, rows: 4, columns: 4);
        Assert.That(MnistData.Load(tiny.Dir).EvalImages, Is.EqualTo(MnistData.Load(tiny.Dir).EvalImages));
    }

    [Test]
    public void Load_MissingData_NamesPathsAndHowToGetIt()
    {
        var dir = Path.Combine(Path.GetTempPath(), "l2o-empty-" + Guid.NewGuid().ToString("N"));
        var ex = Assert.Throws<FileNotFoundException>(() => MnistData.Load(dir));
        Assert.That(ex!.Message, Does.Contain(Path.Combine(dir, "train-images-idx3-ubyte.gz"))
            .And.Contain("apt-get install dataset-fashion-mnist").And.Contain("--data-dir"));
    }

    [Test]
    public void FromArrays_LabelCountMismatch_NamesBothFiles()
    {
        var images = new IdxArray([4, 2, 2], new byte[16]);
        var labels = new IdxArray([3], new byte[3]);
        var ex = Assert.Throws<InvalidDataException>(() => MnistData.FromArrays(images, labels, "img", "lab"));
        Assert.That(ex!.Message, Does.Contain("img").And.Contain("lab").And.Contain("4 images").And.Contain("3 labels"));
    }
}
