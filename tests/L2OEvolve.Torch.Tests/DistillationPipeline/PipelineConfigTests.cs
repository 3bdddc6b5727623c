using L2OEvolve.Torch.DistillationPipeline;

namespace L2OEvolve.Torch.Tests.DistillationPipeline;

public class PipelineConfigTests
{
    [Test]
    public void DefaultConfig_ParsesAndNamesAShippedTeacherAndTheUnseenOptimizees()
    {
        var c = PipelineConfig.Parse(PipelineConfig.DefaultText(), "default");
        Assert.That(c.Teacher.Pretrained, Is.Not.Null);
        Assert.That(c.Evaluate.Optimizees.Select(o => o.Optimizee), Does.Contain("mlp-fashion").And.Contain("cnn-fashion"));
        Assert.That(c.Evaluate.Optimizees[0].Horizons, Is.EqualTo(new[] { 1, 2, 5 }));
        Assert.That(c.Evaluate.LrPoints, Is.GreaterThanOrEqualTo(17));
        Assert.That(c.Evaluate.Baselines, Is.SupersetOf(new[] { "sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw", "lion" }));
    }

    [TestCase("\"teacher\": { \"pretrained\": \"x\", \"model\": \"dm\" }", "$.teacher")]
    [TestCase("\"teacher\": { \"model\": \"dm\" }", "$.teacher")]
    public void Config_TeacherNeitherOrBoth_FailsNamingThePlace(string teacher, string place)
    {
        var text = System.Text.RegularExpressions.Regex.Replace(PipelineConfig.DefaultText(), "\"teacher\": \\{[^}]*\\}", teacher);
        var ex = Assert.Throws<L2OEvolve.Engine.InputException>(() => PipelineConfig.Parse(text, "c.json"));
        Assert.That(ex!.Message, Does.Contain("c.json").And.Contain(place));
    }
}
