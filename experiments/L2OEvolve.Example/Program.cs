using L2OEvolve.Engine.RowEvaluation;
using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Grammars;
using L2OEvolve.Engine.Search;

Console.WriteLine(L2OEvolve.Example.Demo.Run(generations: args.Length > 0 ? int.Parse(args[0]) : 40));

namespace L2OEvolve.Example
{
    /// <summary>A custom operator: softplus(x) = ln(1 + eˣ), written against the engine's public operator interface.</summary>
    public sealed class Softplus() : Op("softplus", 1)
    {
        public override double Apply(double x) => Math.Max(x, 0) + Math.Log(1 + Math.Exp(-Math.Abs(x)));
        public override double Derivative(double x, double value) => 1 / (1 + Math.Exp(-x));
        public override T Tensor<T>(ITensorAlgebra<T> t, T x) => t.Add(t.Relu(x), t.Log(t.AddScalar(t.Exp(t.Neg(t.Abs(x))), 1)));
    }

    /// <summary>A custom fitness: the worst absolute error against y = 2·softplus(x) - 1 on a grid (a minimax fit).</summary>
    public sealed class MaxErrorFitness : ICandidateFitness
    {
        private static readonly float[] X = [.. Enumerable.Range(0, 64).Select(i => -4f + i / 8f)];
        private static readonly float[] Y = [.. X.Select(x => (float)(2 * new Softplus().Apply(x) - 1))];
        public int ObjectiveCount => 1;
        public double BaselineLoss => Y.Max() - Y.Min();
        public bool IsDeterministic => true;
        public void Evaluate(ReadOnlySpan<Expr> candidates, Span<double> objectives, FitnessRequest request, CancellationToken ct)
        {
            for (int i = 0; i < candidates.Length; i++) EvaluateOne(candidates[i], objectives.Slice(i, 1));
        }
        public void EvaluateOne(Expr candidate, Span<double> objectives)
        {
            var output = new float[X.Length];
            bool finite = Evaluator.Evaluate(Compiler.Compile(candidate, ["x"]), [X], X.Length, output, new EvalWorkspace());
            objectives[0] = finite ? output.Zip(Y, (p, y) => (double)Math.Abs(p - y)).Max() : double.PositiveInfinity;
        }
    }

    /// <summary>Registers the operator, builds a grammar that uses it, and searches.</summary>
    public static class Demo
    {
        public static string Run(int generations, ulong seed = 1)
        {
            Ops.Register(new Softplus());
            var grammar = GrammarJson.Parse("""{ "features": ["x"], "operators": ["+", "-", "*", "softplus"], "maxsize": 9 }""");
            var settings = SearchSettings.Default(seed) with { Population = new PopulationSettings(Islands: 2, Size: 32) };
            var ctx = SearchContext.Create(settings, grammar, new MaxErrorFitness());
            var state = Evolution.Run(Evolution.Initialize(ctx, []), ctx, new GenerationTermination(generations));
            var best = state.HallOfFame.MostAccurate()!;
            return $"best after {generations} generations: {best.Tree} (max error {best.Loss:G3}, complexity {best.Complexity})";
        }
    }
}
