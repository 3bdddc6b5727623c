using L2OEvolve.Cli.Commands;
using L2OEvolve.Engine.Progress;
using Spectre.Console.Testing;

namespace L2OEvolve.Torch.Tests.Commands;

/// <summary>The long verbs' progress: plain lines where output is not a terminal, a live bar with ETA where it is.</summary>
public class ProgressDisplayTests
{
    [Test]
    public void Plain_PrintsThrottledLinesAtTheVerbsPaceAndAlwaysLinesAtOnce()
    {
        var log = new StringWriter();
        using (var display = ProgressDisplay.Start("eval", log, TimeSpan.FromHours(1), console: null))
        {
            Assert.That(display.IsLive, Is.False);
            display.Report(1, 10, "step 1", PlainLine.Throttled);
            display.Report(10, 10, "run done", PlainLine.Always);
            display.Report(10, 10, "epoch end", PlainLine.Never);
            display.Report(2, 10, "step 2 right after a line", PlainLine.Throttled);
        }

        Assert.That(log.ToString(), Is.EqualTo("run done" + Environment.NewLine));
    }

    [Test]
    public void Plain_LinesPassThroughUnchanged()
    {
        var log = new StringWriter();
        using (var display = ProgressDisplay.Start("teacher train", log, TimeSpan.Zero, console: null))
        {
            display.Lines.WriteLine("teacher: epoch 1/4 train steps 20");
            display.Lines.Write("teacher: epoch 2/4 ");
            display.Lines.Write("train steps 20\n");
            display.Lines.Write("unterminated");
        }

        Assert.That(log.ToString(), Is.EqualTo($"teacher: epoch 1/4 train steps 20{Environment.NewLine}teacher: epoch 2/4 train steps 20{Environment.NewLine}unterminated{Environment.NewLine}"));
    }

    [Test]
    public void Live_ShowsTheLineThePercentageAndLeavesItsLastState()
    {
        var console = new TestConsole().Interactive().Width(160);
        var log = new StringWriter();
        using (var display = ProgressDisplay.Start("sr", log, TimeSpan.Zero, console))
        {
            Assert.That(display.IsLive, Is.True);
            display.Report(0.25, 1, "gen 25 evals 1000");
        }

        Assert.That(console.Output, Does.Contain("gen 25 evals 1000").And.Contain("25%"));
        Assert.That(log.ToString(), Is.Empty, "a live display prints no plain lines");
    }

    [Test]
    public void Live_LinesShowAboveTheBarAndTheirCounterMovesIt()
    {
        var console = new TestConsole().Interactive().Width(160);
        using (var display = ProgressDisplay.Start("teacher train", new StringWriter(), TimeSpan.Zero, console))
            display.Lines.WriteLine("teacher: epoch 3/4 train steps 20");

        Assert.That(console.Output, Does.Contain("teacher: epoch 3/4 train steps 20").And.Contain("75%"));
    }
}
