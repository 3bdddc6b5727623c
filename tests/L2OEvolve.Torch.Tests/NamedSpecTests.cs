namespace L2OEvolve.Torch.Tests;

public class NamedSpecTests
{
    [Test]
    public void Parse_NameAndSettings_SplitsAndLowerCasesKeys()
    {
        var s = NamedSpec.Parse(" Adam:LR=0.01, beta1=0.8 ");
        Assert.That(s.Name, Is.EqualTo("Adam"));
        Assert.That(s.Key, Is.EqualTo("adam"));
        Assert.That(s.Settings, Is.EqualTo(new[] { KeyValuePair.Create("lr", "0.01"), KeyValuePair.Create("beta1", "0.8") }));
    }

    [Test]
    public void With_ExistingKey_ReplacesItAndKeepsTheNameCase() =>
        Assert.That(NamedSpec.Parse("Rules/My.rule.json:lr=1").With("lr", "0.5").ToString(), Is.EqualTo("Rules/My.rule.json:lr=0.5"));

    [Test]
    public void Parse_SettingWithoutValue_NamesIt()
    {
        var ex = Assert.Throws<ArgumentException>(() => NamedSpec.Parse("adam:lr"));
        Assert.That(ex!.Message, Does.Contain("'lr'"));
    }
}
