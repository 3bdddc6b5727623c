using System.Text;
using CsCheck;
using L2OEvolve.Engine.Data;
using L2OEvolve.Engine.RowEvaluation;
using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Grammars;
using L2OEvolve.Engine.Persistence;

namespace L2OEvolve.Engine.Tests.Fuzz;

/// <summary>
/// Hostile inputs by the thousand: every reader either returns a valid result or throws its documented input error
/// (one line naming the file and place), never anything else. Seeds are fixed, so a failure reproduces.
/// </summary>
[Parallelizable(ParallelScope.None)]
public class InputFuzzTests
{
    private const long Iterations = 2000;

    // Mutations may split a surrogate pair; such text is written as a replacement character, as editors do.
    private static readonly UTF8Encoding Lenient = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);

    private static string RepoFile(string relative)
    {
        for (var d = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "L2OEvolve.sln"))) return Path.Combine(d.FullName, relative);
        throw new DirectoryNotFoundException("repository root not found");
    }

    private static void CleanErrorOrResult(Action read)
    {
        try { read(); }
        catch (InputException e)
        {
            Assert.That(e.Message, Is.Not.Empty);
            Assert.That(e.Message, Does.Not.Contain("\n"), "one line");
        }
    }

    [Test]
    public void GrammarJson_MutatedGrammars_ParseOrFailWithAnInputError()
    {
        var seeds = new[] { "arith.json", "adam-family.json", "paper-rp.json" }.Select(f => File.ReadAllText(RepoFile(Path.Combine("grammars", f)))).ToArray();
        Mutations.OfAny(seeds).Sample(text => CleanErrorOrResult(() =>
        {
            var g = GrammarJson.Parse(text, "g.json");
            Assert.That(g.MaxSize, Is.InRange(1, GrammarJson.MaxLimit));
            Assert.That(g.MaxDepth, Is.InRange(1, GrammarJson.MaxLimit));
            if (g.FeaturesFromData) g.BindFeatures(["x0", "x1"]);
        }), iter: Iterations, threads: 1, seed: "0000000000001");
    }

    private static readonly string[] EquationSeeds =
    [
        "-0.01 * ema(0.9, g) / (sqrt(ema_bc(0.999, g * g)) + 1E-08)", "x0 * x1 + 0.5", "plus(mult(x0, x1), -0.0036)",
        "(0.49058884 * tanh(g_2 + g_0))", "x ^ 2 - -(3)", "lag(2, g) - lag(1, g)", "exp(log(abs(x0)))", "-(-(-(x0)))",
    ];

    [Test]
    public void Infix_MutatedEquations_ParseToTreesThatPrintAndReadBackOrFailWithAnInputError()
    {
        Mutations.OfAny(EquationSeeds).Sample(text => CleanErrorOrResult(() =>
        {
            var e = Infix.Parse(text);
            Assert.That(Infix.Parse(Infix.Print(e)), Is.EqualTo(e), "round trip");
            Latex.Print(e);
            Simplify.Apply(e);
            if (!e.IsStateful) Compiler.Compile(e, [.. e.Variables()]);
            var decoded = ExprEncoding.Decode(ExprEncoding.Encode(e));
            Assert.That(decoded, Is.EqualTo(e));
        }), iter: Iterations, threads: 1, seed: "0000000000002");
        Mutations.OfAny(EquationSeeds).Sample(text => CleanErrorOrResult(() => PySr.ParseEquation(text)), iter: Iterations, threads: 1, seed: "0000000000003");
    }

    [Test]
    public void Infix_LongFlatChains_ParseUpToTheDepthLimitAndFailCleanlyBeyondIt()
    {
        string Chain(int terms, string op) => string.Join(op, Enumerable.Repeat("x0", terms));
        foreach (var op in new[] { " + ", " * ", " - ", " / " })
        {
            var e = Infix.Parse(Chain(Expr.MaxDepth, op));
            Assert.That(e.Depth(), Is.EqualTo(Expr.MaxDepth));
            // The deepest tree accepted survives every recursive walk, even on a thread with a small stack.
            var walker = new Thread(() =>
            {
                Infix.Print(e);
                Latex.Print(e);
                Simplify.Apply(e);
                Compiler.Compile(e, ["x0"]);
                ExprEncoding.Decode(ExprEncoding.Encode(e));
                StructuralHash.Of(e);
            }, maxStackSize: 1 << 20);
            walker.Start();
            walker.Join();
            var tooLong = Assert.Throws<InputException>(() => Infix.Parse(Chain(10_000, op)))!;
            Assert.That(tooLong.Message, Does.Contain($"more than {Expr.MaxDepth} levels deep").And.Length.LessThan(400));
        }
    }

    [Test]
    public void ExprEncoding_DeeperThanTheLimit_IsAFormatError()
    {
        var dto = new ExprDto { Tokens = [.. Enumerable.Repeat("neg", 100_000), "$x"], Numbers = [] };
        Assert.Throws<FormatException>(() => ExprEncoding.Decode(dto));
    }

    [Test]
    public void Csv_MutatedTables_LoadOrFailWithAnInputError()
    {
        var dir = Directory.CreateTempSubdirectory("l2o-fuzz-csv-").FullName;
        try
        {
            var seed = new StringBuilder("x0,x1,y\n");
            for (int i = 0; i < 12; i++) seed.Append(System.Globalization.CultureInfo.InvariantCulture, $"{i * 0.5},{1.0 / (i + 1):R},{i * 1.5}\n");
            int n = 0;
            Mutations.Of(seed.ToString()).Sample(text =>
            {
                string path = Path.Combine(dir, $"t{Interlocked.Increment(ref n)}.csv");
                File.WriteAllBytes(path, Lenient.GetBytes(text));
                CleanErrorOrResult(() =>
                {
                    var data = RowDataset.Load(path);
                    var sel = data.Select(dropNonFinite: true);
                    Assert.That(sel.X.All(c => c.All(float.IsFinite)), Is.True);
                });
                File.Delete(path);
            }, iter: Iterations, threads: 1, seed: "0000000000004");
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Test]
    public void Npy_MutatedArrays_LoadOrFailWithAnInputError()
    {
        var dir = Directory.CreateTempSubdirectory("l2o-fuzz-npy-").FullName;
        try
        {
            string seedPath = Path.Combine(dir, "seed.npy");
            Npy.WriteFloat32(seedPath, [4, 3], Enumerable.Range(0, 12).Select(i => i * 0.25f).ToArray());
            var seed = File.ReadAllBytes(seedPath);
            int n = 0;
            Mutations.OfBytes(seed).Sample(bytes =>
            {
                string path = Path.Combine(dir, $"a{Interlocked.Increment(ref n)}.npy");
                File.WriteAllBytes(path, bytes);
                CleanErrorOrResult(() => RowDataset.Load(path).Select(dropNonFinite: true));
                CleanErrorOrResult(() => TrajectoryDataset.Load(path, dropNonFinite: true));
                File.Delete(path);
            }, iter: Iterations, threads: 1, seed: "0000000000005");
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Test]
    public void JsonInput_DuplicateKeyAtAnyDepth_IsRejectedNamingItsLine()
    {
        var e = Assert.Throws<InputException>(() => JsonInput.Parse("{\n  \"a\": {\"b\": 1,\n  \"b\": 2}\n}", "f.json").Dispose())!;
        Assert.That(e.Message, Is.EqualTo("f.json: line 3, column 3: duplicate key 'b' in $.a (each key may appear once per object)"));
        JsonInput.Parse("{\"a\": [{\"b\": 1}, {\"b\": 2}]}", "f.json").Dispose(); // one key per object: fine
    }
}
