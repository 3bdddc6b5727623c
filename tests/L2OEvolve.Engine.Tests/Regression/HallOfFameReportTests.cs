using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Grammars;
using L2OEvolve.Engine.Regression;
using L2OEvolve.Engine.Search;

namespace L2OEvolve.Engine.Tests.Regression;

public class HallOfFameReportTests
{
    // y = 2x on x = 1..4: variance 5, so a loss of 5 is R² 0.
    private static readonly MseFitness Fitness = MseFitness.Rows(["x"], [[1f, 2f, 3f, 4f]], [2f, 4f, 6f, 8f]);

    private static Individual Member(string equation, double loss, int complexity) =>
        new(Infix.Parse(equation), loss, complexity, 0, [loss]);

    [Test]
    public void Csv_WritesOneRowPerMemberWithRoundTripNumbersAndInfix()
    {
        string csv = HallOfFameReport.Csv([Member("x", 5, 1), Member("2 * x", 0, 3)], Fitness);
        Assert.That(csv, Is.EqualTo("Complexity|Loss|R2|Equation\n1|5|0|x\n3|0|1|2 * x\n"));
    }

    [Test]
    public void Summary_NoFiniteCandidate_SaysSo()
    {
        string text = HallOfFameReport.Summary(HallOfFame.Empty, Fitness, generations: 3, evaluations: 40);
        Assert.That(text, Is.EqualTo("Complexity|Loss|R2|Equation\ndone     3 generations, 40 evaluations\nno finite candidate was found\n"));
    }

    [Test]
    public void Rescore_ScoresOnEveryRowAndAddsTheSimplifiedForm()
    {
        var searched = HallOfFame.Empty.Update([Member("(1 + 1) * x", 123, 5)]);
        var grammar = GrammarJson.Parse("""{"features": ["x"], "operators": {"+": 1, "*": 1}}""");
        var reported = HallOfFameReport.Rescore(searched, Fitness, grammar);
        Assert.That(reported.Members.Select(m => (Infix.Print(m.Tree), m.Loss)), Does.Contain(("2 * x", 0.0)));
    }

    [Test]
    public void Tex_WritesABooktabsRowPerMember()
    {
        string tex = HallOfFameReport.Tex([Member("x", 5, 1)], Fitness, "y");
        Assert.That(tex, Does.Contain("\\toprule").And.Contain("1 & 5e+0 & 0.0000 & $y = x$ \\\\"));
    }
}
