using L2OEvolve.Engine;

namespace L2OEvolve.Engine.Tests;

public class JsonInputTests
{
    [Test]
    public void Parse_CommentsAndTrailingComma_AreAccepted()
    {
        using var doc = JsonInput.Parse("{ // a note\n \"a\": 1, }", "f.json");
        Assert.That(doc.RootElement.GetProperty("a").GetInt32(), Is.EqualTo(1));
    }

    [Test]
    public void Parse_EmptyText_NamesFileLineAndFaultOnce()
    {
        var ex = Assert.Throws<InputException>(() => JsonInput.Parse("", "f.json"));
        Assert.That(ex!.Message, Does.StartWith("f.json: line 1, column 1: malformed JSON: "));
        Assert.That(ex.Message, Does.Not.Contain("LineNumber"), "the zero-based position System.Text.Json appends contradicts the location");
    }

    [Test]
    public void Parse_MissingValue_GivesOneBasedLineAndColumn()
    {
        var ex = Assert.Throws<InputException>(() => JsonInput.Parse("{\n  \"a\": \n}", "f.json"));
        Assert.That(ex!.Location, Is.EqualTo("line 3, column 1"));
        Assert.That(ex.Message, Does.Not.Contain("Path:"));
    }
}
