using L2OEvolve.Engine.Expressions;
using L2OEvolve.Engine.Persistence;
using L2OEvolve.Engine.Random;
using L2OEvolve.Engine.Tests.Search;
using L2OEvolve.Engine.Variation;

namespace L2OEvolve.Engine.Tests.Persistence;

public class ExprEncodingTests
{
    [Test]
    public void EncodeDecode_RandomTreesWithStatefulNodes_RoundTripExactly()
    {
        var g = SearchTestKit.Stateful() with { Features = ["g", "m"] };
        var rng = new Rng(1);
        for (int i = 0; i < 300; i++)
        {
            var tree = TreeGenerator.Grow(ref rng, g, 15, 10);
            Assert.That(ExprEncoding.Decode(ExprEncoding.Encode(tree)), Is.EqualTo(tree));
        }
    }

    [Test]
    public void Encode_Adam_IsAReadablePrefixTokenList()
    {
        var g = new Expr.Var("g");
        Expr adam = new Expr.Binary(Op.Div, new Expr.Ema(0.9, true, g),
            new Expr.Unary(Op.Sqrt, new Expr.Ema(0.999, false, new Expr.Binary(Op.Mul, g, g))));
        var dto = ExprEncoding.Encode(adam);
        Assert.That(dto.Tokens, Is.EqualTo(new[] { "/", "ema!", "$g", "sqrt", "ema", "*", "$g", "$g" }));
        Assert.That(dto.Numbers, Is.EqualTo(new[] { 0.9, 0.999 }));
    }

    [Test]
    public void Decode_UnknownTokenOrTruncated_FailsWithTheFault()
    {
        Assert.That(() => ExprEncoding.Decode(new ExprDto { Tokens = ["frob", "$x"] }), Throws.TypeOf<FormatException>().With.Message.Contains("frob"));
        Assert.That(() => ExprEncoding.Decode(new ExprDto { Tokens = ["+", "$x"] }), Throws.TypeOf<FormatException>().With.Message.Contains("ran out"));
        Assert.That(() => ExprEncoding.Decode(new ExprDto { Tokens = ["$x", "$y"] }), Throws.TypeOf<FormatException>().With.Message.Contains("trailing"));
    }
}
