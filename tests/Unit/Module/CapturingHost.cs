using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Security;
using System.Text;

namespace XetPs.Tests.Module;

/// <summary>
/// A PSHost that records what cmdlets write to the host (the "What if:" lines of -WhatIf go there, not to a
/// stream). Text passes through GetOutputString so no ANSI sequence reaches the assertions. It never prompts: a
/// prompt in a test is a bug (the cmdlets must run unattended), so every prompt throws, except the choices a test
/// that asks for -Confirm queued in <see cref="ChoiceAnswers"/>.
/// </summary>
internal sealed class CapturingHost : PSHost
{
    private readonly CapturingUserInterface _ui = new();

    public override string Name => "XetPs.Tests";
    public override Version Version => new(1, 0);
    public override Guid InstanceId { get; } = Guid.NewGuid();
    public override PSHostUserInterface UI => _ui;
    public override CultureInfo CurrentCulture => CultureInfo.InvariantCulture;
    public override CultureInfo CurrentUICulture => CultureInfo.InvariantCulture;

    public string Text => _ui.Text;

    /// <summary>Labels of the choices to pick (e.g. "&amp;No"), one per prompt, in order; a prompt beyond them throws.</summary>
    public Queue<string> ChoiceAnswers => _ui.ChoiceAnswers;

    /// <summary>How long each WriteProgress takes, as on a console that draws slowly (a slow SSH link, a terminal
    /// that never answers pwsh's cursor queries).</summary>
    public TimeSpan ProgressDelay { get => _ui.ProgressDelay; set => _ui.ProgressDelay = value; }

    /// <summary>The progress records written to the host, in order.</summary>
    public IReadOnlyList<ProgressRecord> ProgressRecords => _ui.ProgressRecords;

    public override void EnterNestedPrompt() => throw new NotSupportedException("Tests run without nested prompts.");
    public override void ExitNestedPrompt() => throw new NotSupportedException("Tests run without nested prompts.");
    public override void NotifyBeginApplication() { }
    public override void NotifyEndApplication() { }
    public override void SetShouldExit(int exitCode) { }

    private sealed class CapturingUserInterface : PSHostUserInterface
    {
        private readonly StringBuilder _text = new();
        private readonly CapturingRawUserInterface _raw = new();

        public string Text { get { lock (_text) return _text.ToString(); } }
        public Queue<string> ChoiceAnswers { get; } = new();
        public override PSHostRawUserInterface RawUI => _raw;

        public override void Write(string value) => Append(value);
        public override void Write(ConsoleColor foregroundColor, ConsoleColor backgroundColor, string value) => Append(value);
        public override void WriteLine(string value) => Append(value + "\n");
        public override void WriteErrorLine(string value) => Append(value + "\n");
        public override void WriteDebugLine(string message) => Append("DEBUG: " + message + "\n");
        public override void WriteVerboseLine(string message) => Append("VERBOSE: " + message + "\n");
        public override void WriteWarningLine(string message) => Append("WARNING: " + message + "\n");
        public TimeSpan ProgressDelay { get; set; }

        public IReadOnlyList<ProgressRecord> ProgressRecords { get { lock (_progress) return _progress.ToArray(); } }

        private readonly List<ProgressRecord> _progress = new();

        public override void WriteProgress(long sourceId, ProgressRecord record)
        {
            lock (_progress) _progress.Add(record);
            if (ProgressDelay > TimeSpan.Zero) System.Threading.Thread.Sleep(ProgressDelay);
        }

        public override string ReadLine() => throw Prompted();
        public override SecureString ReadLineAsSecureString() => throw Prompted();
        public override Dictionary<string, PSObject> Prompt(string caption, string message, Collection<FieldDescription> descriptions) => throw Prompted();
        public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName) => throw Prompted();
        public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName, PSCredentialTypes allowedCredentialTypes, PSCredentialUIOptions options) => throw Prompted();
        public override int PromptForChoice(string caption, string message, Collection<ChoiceDescription> choices, int defaultChoice)
        {
            if (!ChoiceAnswers.TryDequeue(out var answer)) throw Prompted();
            Append($"PROMPT: {message}\n");
            for (var i = 0; i < choices.Count; i++)
                if (choices[i].Label == answer) return i;
            throw new PSInvalidOperationException($"The prompt '{message}' offers no choice '{answer}'.");
        }

        private void Append(string value)
        {
            lock (_text) _text.Append(GetOutputString(value, supportsVirtualTerminal: false));
        }

        private static Exception Prompted() => new PSInvalidOperationException("The command prompted; XetPs must run unattended.");
    }

    private sealed class CapturingRawUserInterface : PSHostRawUserInterface
    {
        public override ConsoleColor ForegroundColor { get; set; } = ConsoleColor.Gray;
        public override ConsoleColor BackgroundColor { get; set; } = ConsoleColor.Black;
        public override Coordinates CursorPosition { get; set; }
        public override Coordinates WindowPosition { get; set; }
        public override int CursorSize { get; set; }
        public override Size BufferSize { get; set; } = new(200, 9001);
        public override Size WindowSize { get; set; } = new(200, 50);
        public override Size MaxWindowSize => WindowSize;
        public override Size MaxPhysicalWindowSize => WindowSize;
        public override bool KeyAvailable => false;
        public override string WindowTitle { get; set; } = string.Empty;
        public override void FlushInputBuffer() { }
        public override KeyInfo ReadKey(ReadKeyOptions options) => throw new NotSupportedException("Tests read no keys.");
        public override BufferCell[,] GetBufferContents(Rectangle rectangle) => throw new NotSupportedException("Tests read no screen buffer.");
        public override void ScrollBufferContents(Rectangle source, Coordinates destination, Rectangle clip, BufferCell fill) => throw new NotSupportedException("Tests scroll no screen buffer.");
        public override void SetBufferContents(Coordinates origin, BufferCell[,] contents) => throw new NotSupportedException("Tests write no screen buffer.");
        public override void SetBufferContents(Rectangle rectangle, BufferCell fill) => throw new NotSupportedException("Tests write no screen buffer.");
    }
}
