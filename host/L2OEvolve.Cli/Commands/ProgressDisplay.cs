using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using L2OEvolve.Engine.Progress;
using Spectre.Console;

namespace L2OEvolve.Cli.Commands;

/// <summary>
/// The long verbs' progress: on a terminal a live Spectre.Console bar with elapsed time and ETA on stderr; otherwise
/// (CI, logs, redirected output) the verb's plain lines as before, at the verb's own pace.
/// </summary>
/// <remarks>
/// A verb either reports numbers (<see cref="Report"/>) or hands its line-writing code <see cref="Lines"/>: each line
/// is then shown as it is (above the bar when live) and a "epoch N/M", "window N/M" or "generation N/M" in it moves
/// the bar. The live display runs on its own task, so reports never wait for the terminal.
/// </remarks>
public sealed partial class ProgressDisplay : IProgressDisplay
{
    private readonly TextWriter _plain;
    private readonly TimeSpan _plainEvery;
    private readonly Stopwatch _sincePlain = Stopwatch.StartNew();
    private readonly IAnsiConsole? _console;
    private readonly ProgressTask? _task;
    private readonly Task? _display;
    private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ProgressDisplay(string title, TextWriter plain, TimeSpan plainEvery, IAnsiConsole? console)
    {
        _plain = plain;
        _plainEvery = plainEvery;
        _console = console;
        Lines = new LineWriter(this);
        if (console is null) return;
        var started = new TaskCompletionSource<ProgressTask>(TaskCreationOptions.RunContinuationsAsynchronously);
        _display = Task.Run(() => console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                new ElapsedTimeColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .StartAsync(async ctx =>
            {
                var task = ctx.AddTask(Markup.Escape(title), maxValue: 1);
                task.IsIndeterminate = true;
                started.SetResult(task);
                await _finished.Task;
                task.StopTask();
            }));
        _task = started.Task.GetAwaiter().GetResult();
    }

    /// <summary>True when the live bar is shown (rather than plain lines).</summary>
    public bool IsLive => _console is not null;

    /// <summary>A writer for verbs that report in lines (see the remarks).</summary>
    public TextWriter Lines { get; }

    /// <summary>
    /// A display titled <paramref name="title"/>: live when <paramref name="plain"/> is the process's stdout or stderr and
    /// stderr is a terminal, else plain lines to <paramref name="plain"/> at most every <paramref name="plainEvery"/>.
    /// </summary>
    public static ProgressDisplay Start(string title, TextWriter plain, TimeSpan plainEvery) =>
        new(title, plain, plainEvery, IsTerminal(plain) ? AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) }) : null);

    /// <summary>A live display on <paramref name="console"/> (for tests), or plain when it is null.</summary>
    public static ProgressDisplay Start(string title, TextWriter plain, TimeSpan plainEvery, IAnsiConsole? console) =>
        new(title, plain, plainEvery, console);

    private static bool IsTerminal(TextWriter w) =>
        (ReferenceEquals(w, Console.Error) || ReferenceEquals(w, Console.Out)) && !Console.IsErrorRedirected && Environment.GetEnvironmentVariable("TERM") is not (null or "" or "dumb");

    /// <summary>
    /// Progress <paramref name="done"/> of <paramref name="total"/> (null: unknown, the bar just moves), described by
    /// <paramref name="line"/>, which is also the plain line when the display is not live.
    /// </summary>
    public void Report(double done, double? total, string line, PlainLine plain = PlainLine.Throttled)
    {
        if (_task is not null)
        {
            _task.IsIndeterminate = total is null;
            if (total is { } t && t > 0)
            {
                _task.MaxValue = t;
                _task.Value = Math.Min(done, t);
            }
            _task.Description = Markup.Escape(Shorten(line));
            return;
        }
        if (plain == PlainLine.Never || (plain == PlainLine.Throttled && _sincePlain.Elapsed < _plainEvery)) return;
        _sincePlain.Restart();
        _plain.WriteLine(line);
    }

    /// <summary>The description column is one line: long lines keep their start.</summary>
    private string Shorten(string line)
    {
        int room = Math.Max(30, (_console?.Profile.Width ?? 120) - 50);
        return line.Length <= room ? line : line[..(room - 1)] + "…";
    }

    private void OnLine(string line)
    {
        if (_console is null)
        {
            _plain.WriteLine(line);
            return;
        }
        _console.WriteLine(line);
        var m = Counter().Match(line);
        if (m.Success) Report(double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), double.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture), line);
    }

    /// <summary>Ends the live display (leaving its last state on the terminal); plain output needs nothing.</summary>
    public void Dispose()
    {
        Lines.Flush();
        _finished.TrySetResult();
        _display?.GetAwaiter().GetResult();
    }

    [GeneratedRegex(@"\b(?:epoch|window|generation)\s+(\d+)/(\d+)")]
    private static partial Regex Counter();

    /// <summary>Collects characters into lines and hands each complete line to the display.</summary>
    private sealed class LineWriter(ProgressDisplay owner) : TextWriter
    {
        private readonly StringBuilder _line = new();
        public override Encoding Encoding => Encoding.UTF8;

        public override void Write(char value)
        {
            lock (_line)
            {
                if (value == '\n') Emit();
                else if (value != '\r') _line.Append(value);
            }
        }

        public override void Flush()
        {
            lock (_line) if (_line.Length > 0) Emit();
        }

        private void Emit()
        {
            owner.OnLine(_line.ToString());
            _line.Clear();
        }
    }
}
