using L2OEvolve.Engine.Expressions;

namespace L2OEvolve.Engine.Regression;

/// <summary>Equations typed by people: the house infix form, or PySR's notations.</summary>
public static class Equations
{
    /// <summary>
    /// Parses <paramref name="text"/> as infix, else as PySR's prefix or Julia infix; a fault names
    /// <paramref name="what"/> (the option or field it came from) and the infix parser's complaint.
    /// </summary>
    public static Expr Parse(string text, string what)
    {
        try { return Infix.Parse(text); }
        catch (InputException first)
        {
            try { return PySr.ParseEquation(text); }
            catch (InputException) { throw new InputException($"{what}: {first.Message}"); }
        }
    }
}
