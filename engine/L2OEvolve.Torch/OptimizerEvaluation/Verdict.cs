using System.Globalization;

namespace L2OEvolve.Torch.OptimizerEvaluation;

/// <summary>How a rule fared against a reference optimizer on the same seeds.</summary>
public enum VerdictKind
{
    /// <summary>Lower mean, and either lower on at least 70% of the seeds or lower by more than one std.</summary>
    Beats,
    /// <summary>The means are within one std of each other (and the rule does not win on 70% of the seeds).</summary>
    Ties,
    /// <summary>Higher mean by more than one std.</summary>
    Loses,
}

/// <summary>
/// A comparison of two optimizers' final training losses over the same seeds (paired: seed i is the same problem
/// instance and initialisation for both). The std is the reference's std over seeds, as in the tables' "mean ± std".
/// </summary>
/// <param name="Kind">Beats, ties or loses.</param>
/// <param name="Gap">(mean of the rule − mean of the reference) / std of the reference: negative is better.</param>
/// <param name="Wins">Seeds on which the rule's loss is lower.</param>
/// <param name="Seeds">Seeds where both ran without diverging (a seed where only the rule diverged counts as a loss).</param>
/// <param name="Mean">The rule's mean.</param>
/// <param name="ReferenceMean">The reference's mean.</param>
/// <param name="ReferenceStd">The reference's std.</param>
public sealed record Verdict(VerdictKind Kind, double Gap, int Wins, int Seeds, double Mean, double ReferenceMean, double ReferenceStd)
{
    /// <summary>Share of the seeds a rule must win to "beat" the reference without a one-std gap.</summary>
    public const double WinShare = 0.7;

    /// <summary>
    /// The verdict on <paramref name="rule"/> against <paramref name="reference"/>, both one value per seed in the same
    /// order (NaN = diverged). A rule that diverges where the reference does not loses that seed; a seed where the
    /// reference diverged and the rule did not is a win.
    /// </summary>
    public static Verdict Of(IReadOnlyList<double> rule, IReadOnlyList<double> reference)
    {
        if (rule.Count != reference.Count) throw new ArgumentException($"paired comparison needs as many rule values ({rule.Count}) as reference values ({reference.Count})");
        int wins = 0, seeds = 0;
        for (int i = 0; i < rule.Count; i++)
        {
            bool r = double.IsFinite(rule[i]), b = double.IsFinite(reference[i]);
            if (!r && !b) continue;
            seeds++;
            if (r && (!b || rule[i] < reference[i])) wins++;
        }
        var a = Stat.Of(rule);
        var b2 = Stat.Of(reference);
        bool ruleDiverged = rule.Any(x => !double.IsFinite(x)) && !reference.Any(x => !double.IsFinite(x));
        double std = b2.Std > 0 ? b2.Std : double.Epsilon;
        double gap = a.N == 0 ? double.PositiveInfinity : (a.Mean - b2.Mean) / std;
        var kind = ruleDiverged || a.N == 0 ? VerdictKind.Loses
            : a.Mean < b2.Mean && (gap < -1 || wins >= WinShare * seeds) ? VerdictKind.Beats
            : gap <= 1 ? VerdictKind.Ties
            : VerdictKind.Loses;
        return new Verdict(kind, gap, wins, seeds, a.Mean, b2.Mean, b2.Std);
    }

    /// <summary>"beats", "ties within one std" or "loses by k std", with the per-seed wins.</summary>
    public string Phrase(string reference)
    {
        var inv = CultureInfo.InvariantCulture;
        string k = Math.Abs(Gap).ToString("0.#", inv);
        string wins = $"lower on {Wins} of {Seeds} seeds";
        return Kind switch
        {
            VerdictKind.Beats when Gap < -1 => $"beats {reference} by {k} std; {wins}",
            VerdictKind.Beats => $"beats {reference} (within one std, but {wins})",
            VerdictKind.Ties => $"ties {reference} within one std; {wins}",
            _ when double.IsFinite(Gap) && Gap > 1 => $"loses to {reference} by {k} std; {wins}",
            _ => $"loses to {reference} (it diverged where {reference} did not); {wins}",
        };
    }
}
