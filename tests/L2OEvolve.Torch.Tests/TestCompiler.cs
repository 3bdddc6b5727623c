using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using TorchSharp;

namespace L2OEvolve.Torch.Tests;

/// <summary>Compiles C# source at test time (exported optimizers, operator plug-ins) against the running framework, TorchSharp and the engine.</summary>
internal static class TestCompiler
{
    /// <summary>The assembly image of <paramref name="source"/>; fails the test with the compiler's errors.</summary>
    public static byte[] Emit(string source, string assemblyName)
    {
        var tpa = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        var refs = tpa.Append(typeof(torch).Assembly.Location).Append(typeof(L2OEvolve.Engine.Expressions.Op).Assembly.Location)
            .Select(Path.GetFullPath).Distinct(StringComparer.Ordinal).Select(p => MetadataReference.CreateFromFile(p));
        var compilation = CSharpCompilation.Create(assemblyName, [CSharpSyntaxTree.ParseText(source)], refs,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
        using var ms = new MemoryStream();
        var result = compilation.Emit(ms);
        Assert.That(result.Success, Is.True, string.Join("\n", result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)) + "\n" + source);
        return ms.ToArray();
    }
}
