using L2OEvolve.Engine.Progress;

namespace L2OEvolve.Engine.Tests.Progress;

public class PlainProgressDisplayTests
{
    [Test]
    public void Report_ThrottledLinesWaitForTheInterval_AlwaysAndNeverAreHonoured()
    {
        var log = new StringWriter { NewLine = "\n" };
        using (var display = new PlainProgressDisplay(log, TimeSpan.FromHours(1)))
        {
            display.Report(1, 10, "step 1 (too soon after the start)");
            display.Report(10, 10, "run done", PlainLine.Always);
            display.Report(10, 10, "epoch end", PlainLine.Never);
            display.Lines.WriteLine("a log line");
        }
        Assert.That(log.ToString(), Is.EqualTo("run done\na log line\n"));
    }

    [Test]
    public void Report_ZeroInterval_WritesEveryThrottledLine()
    {
        var log = new StringWriter { NewLine = "\n" };
        var display = new PlainProgressDisplay(log, TimeSpan.Zero);
        display.Report(1, null, "a");
        display.Report(2, null, "b");
        Assert.That(log.ToString(), Is.EqualTo("a\nb\n"));
    }
}
