using L2OEvolve.Torch.Optimizers;
using static TorchSharp.torch;

namespace L2OEvolve.Torch.Tests.Optimizers;

public class OptimizerRegistryTests
{
    [Test]
    public void Resolve_UnknownName_ListsBuiltIns()
    {
        var ex = Assert.Throws<ArgumentException>(() => OptimizerRegistry.BuiltIn.Resolve("adagrad", CPU));
        Assert.That(ex!.Message, Does.Contain("adagrad").And.Contain("sgd").And.Contain("adam"));
    }

    [Test]
    public void Resolve_MissingRuleFile_SaysTheFileDoesNotExist()
    {
        var ex = Assert.Throws<ArgumentException>(() => OptimizerRegistry.BuiltIn.Resolve("no/such.rule.json", CPU));
        Assert.That(ex!.Message, Does.Contain("'no/such.rule.json' does not exist"));
    }

    [Test]
    public void With_AddedResolver_IsConsultedAfterBuiltInsAndLeavesTheOriginalUnchanged()
    {
        ParameterOptimizerFactory sgd = OptimizerRegistry.BuiltIn.Resolve("sgd", CPU);
        var extended = OptimizerRegistry.BuiltIn.With((spec, _) => spec == "my-rule" ? sgd : null);

        Assert.That(extended.Resolve("my-rule", CPU), Is.SameAs(sgd));
        Assert.That(extended.TryResolve("adam", CPU), Is.Not.Null);
        Assert.That(OptimizerRegistry.BuiltIn.TryResolve("my-rule", CPU), Is.Null);
    }
}
