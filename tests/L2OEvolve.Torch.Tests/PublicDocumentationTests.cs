using System.Reflection;
using System.Xml.Linq;
using L2OEvolve.Engine.Expressions;

namespace L2OEvolve.Torch.Tests;

/// <summary>The libraries are used from C#: every public type of the engine and of the Torch project has a doc summary.</summary>
public class PublicDocumentationTests
{
    [TestCase(typeof(Expr))]
    [TestCase(typeof(TorchSetup))]
    public void EveryPublicType_HasASummary(Type anyTypeOfTheLibrary)
    {
        var assembly = anyTypeOfTheLibrary.Assembly;
        string xml = Path.ChangeExtension(assembly.Location, ".xml");
        Assert.That(File.Exists(xml), Is.True, $"{xml}: the documentation file is not beside the assembly");
        var documented = XDocument.Load(xml).Descendants("member")
            .Where(m => !string.IsNullOrWhiteSpace(m.Element("summary")?.Value) || m.Element("inheritdoc") is not null)
            .Select(m => (string)m.Attribute("name")!)
            .ToHashSet(StringComparer.Ordinal);
        Assert.That(assembly.GetExportedTypes(), Has.Length.GreaterThan(10), "the check must see the library's types");
        var missing = assembly.GetExportedTypes()
            .Where(t => t.GetCustomAttribute<System.Runtime.CompilerServices.CompilerGeneratedAttribute>() is null)
            .Select(t => "T:" + t.FullName!.Replace('+', '.'))
            .Where(id => !documented.Contains(id))
            .Order(StringComparer.Ordinal)
            .ToList();
        Assert.That(missing, Is.Empty, $"public types of {assembly.GetName().Name} without a <summary>");
    }
}
