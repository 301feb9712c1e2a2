using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Security;

namespace XetPs.Host;

/// <summary>
/// Text in and out of tools/ps. Output goes to stdout; errors, warnings, verbose and debug lines to stderr in pwsh's
/// colours on a terminal; progress to the <see cref="ProgressPane"/>. Invariant: one lock orders every write, and the
/// progress bar is erased before any other text, so output never lands inside a half-drawn bar. ANSI sequences are
/// kept only when stdout is a terminal (GetOutputString strips them otherwise, as pwsh does).
/// </summary>
internal sealed class ConsoleHostUserInterface : PSHostUserInterface
{
    private readonly object _gate = new();
    private readonly ConsoleRawUserInterface _raw = new();
    private readonly bool _terminal = !Console.IsOutputRedirected && Environment.GetEnvironmentVariable("TERM") != "dumb";
    private readonly ProgressPane _progress;

    public ConsoleHostUserInterface()
    {
        _progress = new ProgressPane(_terminal, Console.Out, Console.Error, ConsoleRawUserInterface.Width);
    }

    public override PSHostRawUserInterface RawUI => _raw;

    public override bool SupportsVirtualTerminal => _terminal;

    public void ClearProgress()
    {
        lock (_gate) _progress.Clear();
    }

    public override void Write(string value) => Out(value, newLine: false);

    public override void Write(ConsoleColor foregroundColor, ConsoleColor backgroundColor, string value) =>
        Out(Coloured(foregroundColor, backgroundColor, value), newLine: false);

    public override void WriteLine(string value) => Out(value, newLine: true);

    public override void WriteLine() => Out(string.Empty, newLine: true);

    public override void WriteLine(ConsoleColor foregroundColor, ConsoleColor backgroundColor, string value) =>
        Out(Coloured(foregroundColor, backgroundColor, value), newLine: true);

    /// <summary>
    /// Write-Host's -ForegroundColor and -BackgroundColor as ANSI colours on a terminal; the colours the console
    /// already has (what Write-Host passes without them) add nothing. Off a terminal GetOutputString strips them.
    /// </summary>
    private string Coloured(ConsoleColor foreground, ConsoleColor background, string value)
    {
        if (!_terminal || value.Length == 0) return value;
        var codes = new List<int>(2);
        if (foreground != _raw.ForegroundColor) codes.Add(AnsiColour(foreground));
        if (background != _raw.BackgroundColor) codes.Add(AnsiColour(background) + 10);
        return codes.Count == 0 ? value : $"\u001b[{string.Join(";", codes)}m{value}\u001b[0m";
    }

    // ConsoleColor in the order of the 16 ANSI colours: dark ones 30-37, bright ones 90-97.
    private static int AnsiColour(ConsoleColor colour) => colour switch
    {
        ConsoleColor.Black => 30,
        ConsoleColor.DarkRed => 31,
        ConsoleColor.DarkGreen => 32,
        ConsoleColor.DarkYellow => 33,
        ConsoleColor.DarkBlue => 34,
        ConsoleColor.DarkMagenta => 35,
        ConsoleColor.DarkCyan => 36,
        ConsoleColor.Gray => 37,
        ConsoleColor.DarkGray => 90,
        ConsoleColor.Red => 91,
        ConsoleColor.Green => 92,
        ConsoleColor.Yellow => 93,
        ConsoleColor.Blue => 94,
        ConsoleColor.Magenta => 95,
        ConsoleColor.Cyan => 96,
        _ => 97,
    };

    public override void WriteErrorLine(string value) => Err(value, FormatStyle.Error);

    public override void WriteWarningLine(string message) => Err("WARNING: " + message, FormatStyle.Warning);

    public override void WriteVerboseLine(string message) => Err("VERBOSE: " + message, FormatStyle.Verbose);

    public override void WriteDebugLine(string message) => Err("DEBUG: " + message, FormatStyle.Debug);

    public override void WriteInformation(InformationRecord record)
    {
        // Nothing to show: the engine has already written the record through Write/WriteLine (Write-Host with its
        // colours and -NoNewline, Write-Information when its preference is Continue). This is where pwsh's console
        // host only keeps its transcript; printing here showed every Write-Host line twice.
    }

    public override void WriteProgress(long sourceId, ProgressRecord record)
    {
        lock (_gate) _progress.Update(sourceId, record);
    }

    public override string ReadLine()
    {
        lock (_gate) _progress.Clear();
        return Console.ReadLine() ?? throw new PSInvalidOperationException("No input: standard input is closed.");
    }

    public override SecureString ReadLineAsSecureString()
    {
        var secure = new SecureString();
        if (Console.IsInputRedirected)
        {
            foreach (var c in ReadLine()) secure.AppendChar(c);
        }
        else
        {
            lock (_gate) _progress.Clear();
            for (var key = Console.ReadKey(intercept: true); key.Key != ConsoleKey.Enter; key = Console.ReadKey(intercept: true))
            {
                if (key.Key == ConsoleKey.Backspace) { if (secure.Length > 0) secure.RemoveAt(secure.Length - 1); }
                else secure.AppendChar(key.KeyChar);
            }
            Console.WriteLine();
        }
        secure.MakeReadOnly();
        return secure;
    }

    public override Dictionary<string, PSObject> Prompt(string caption, string message, Collection<FieldDescription> descriptions)
    {
        WritePromptHeader(caption, message);
        var answers = new Dictionary<string, PSObject>();
        foreach (var field in descriptions)
        {
            Out(field.Name + ": ", newLine: false);
            answers[field.Name] = field.ParameterTypeName == typeof(SecureString).Name
                ? PSObject.AsPSObject(ReadLineAsSecureString())
                : PSObject.AsPSObject(ReadLine());
        }
        return answers;
    }

    public override int PromptForChoice(string caption, string message, Collection<ChoiceDescription> choices, int defaultChoice)
    {
        WritePromptHeader(caption, message);
        var labels = new List<string>();
        for (var i = 0; i < choices.Count; i++)
        {
            var label = choices[i].Label;
            var amp = label.IndexOf('&');
            var hotkey = amp >= 0 && amp + 1 < label.Length ? char.ToUpperInvariant(label[amp + 1]).ToString() : (i + 1).ToString(CultureInfo.InvariantCulture);
            labels.Add(hotkey);
            Out($"[{hotkey}] {label.Replace("&", string.Empty)}  ", newLine: false);
        }
        if (defaultChoice >= 0) Out($"(default is \"{labels[defaultChoice]}\"): ", newLine: false);
        while (true)
        {
            var answer = ReadLine().Trim();
            if (answer.Length == 0 && defaultChoice >= 0) return defaultChoice;
            var index = labels.FindIndex(l => string.Equals(l, answer, StringComparison.OrdinalIgnoreCase));
            if (index >= 0) return index;
            Out("Choose one of: " + string.Join(", ", labels) + ": ", newLine: false);
        }
    }

    public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName) =>
        PromptForCredential(caption, message, userName, targetName, PSCredentialTypes.Default, PSCredentialUIOptions.Default);

    public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName,
        PSCredentialTypes allowedCredentialTypes, PSCredentialUIOptions options)
    {
        WritePromptHeader(caption, message);
        if (string.IsNullOrEmpty(userName))
        {
            Out("User: ", newLine: false);
            userName = ReadLine();
        }
        Out("Password for " + userName + ": ", newLine: false);
        return new PSCredential(userName, ReadLineAsSecureString());
    }

    private void WritePromptHeader(string caption, string message)
    {
        if (!string.IsNullOrEmpty(caption)) Out(caption, newLine: true);
        if (!string.IsNullOrEmpty(message)) Out(message, newLine: true);
    }

    private void Out(string value, bool newLine)
    {
        var text = GetOutputString(value, _terminal);
        lock (_gate)
        {
            _progress.Clear();
            if (newLine) Console.Out.WriteLine(text);
            else Console.Out.Write(text);
            Console.Out.Flush();
        }
    }

    private void Err(string value, FormatStyle style)
    {
        var text = _terminal
            ? GetFormatStyleString(style) + value + "\u001b[0m"
            : GetOutputString(value, supportsVirtualTerminal: false);
        lock (_gate)
        {
            _progress.Clear();
            Console.Error.WriteLine(text);
            Console.Error.Flush();
        }
    }
}
