using System;
using System.Globalization;
using System.Management.Automation.Host;

namespace XetPs.Host;

/// <summary>
/// The PSHost of tools/ps: a console with no nested prompts. Remembers an `exit N` (SetShouldExit) so the process
/// can return that code once the pipeline has ended.
/// </summary>
internal sealed class ConsoleHost : PSHost
{
    private readonly Guid _instanceId = Guid.NewGuid();
    private readonly ConsoleHostUserInterface _ui = new();

    public override string Name => "XetPs.Host";
    public override Version Version => typeof(ConsoleHost).Assembly.GetName().Version ?? new Version(0, 1);
    public override Guid InstanceId => _instanceId;
    public override PSHostUserInterface UI => _ui;
    public ConsoleHostUserInterface ConsoleUI => _ui;
    public override CultureInfo CurrentCulture => CultureInfo.CurrentCulture;
    public override CultureInfo CurrentUICulture => CultureInfo.CurrentUICulture;

    public bool ShouldExit { get; private set; }
    public int ExitCode { get; private set; }

    public override void SetShouldExit(int exitCode)
    {
        ShouldExit = true;
        ExitCode = exitCode;
    }

    public override void EnterNestedPrompt() =>
        throw new NotSupportedException("tools/ps runs scripts unattended: nested prompts are not available.");

    public override void ExitNestedPrompt() =>
        throw new NotSupportedException("tools/ps runs scripts unattended: nested prompts are not available.");

    public override void NotifyBeginApplication() { }

    public override void NotifyEndApplication() { }
}
