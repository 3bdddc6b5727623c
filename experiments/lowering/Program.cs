using L2OEvolve.Engine.Compilation;
using L2OEvolve.Engine.Expressions;

// For each equation of the given halls of fame (sr's hall_of_fame.csv: Complexity|Loss|R2|Equation): its operator
// nodes as written (what the postfix program computes) and as the IR over columns holds them (shared values once).
// The difference is what storing shared values in scratch blocks could save over re-expanding them.
if (args.Length < 2)
{
    Console.Error.WriteLine("usage: SharedSubexpressions COLUMNS(comma-separated) HALL_OF_FAME.csv...");
    return 2;
}
var columns = args[0].Split(',').ToArray();
int equations = 0, sharing = 0;
long written = 0, held = 0;
foreach (var file in args[1..])
    foreach (var line in File.ReadLines(file).Skip(1))
    {
        var program = RuleProgram.CompileOverColumns(Infix.Parse(line.Split('|')[3]), [.. columns]);
        int inIr = program.Code.Count(i => i.Code is RuleCode.Unary or RuleCode.Binary)
            + program.Uniforms.Count(u => u is UniformNode.Unary or UniformNode.Binary);
        int asWritten = Operators(program.Source);
        equations++;
        written += asWritten;
        held += inIr;
        if (inIr < asWritten) sharing++;
    }
Console.WriteLine($"{equations} equations, {sharing} with a shared operator subexpression; operator nodes as written {written}, " +
    $"in the IR {held}: re-expansion recomputes {(written == 0 ? 0 : 100.0 * (written - held) / written):F1}% of them");
return 0;

static int Operators(Expr e) => e switch
{
    Expr.Unary u => 1 + Operators(u.Arg),
    Expr.Binary b => 1 + Operators(b.Left) + Operators(b.Right),
    Expr.Ema m => Operators(m.Arg),
    Expr.Lag l => Operators(l.Arg),
    _ => 0,
};
