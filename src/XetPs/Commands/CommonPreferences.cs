using System.Management.Automation;

namespace XetPs.Commands;

/// <summary>
/// What the common parameters and preference variables mean for a cmdlet's next call, read the way the engine reads
/// them (MshCommandRuntime): a bound -ErrorAction/-WhatIf/-Confirm wins, else $ErrorActionPreference,
/// $WhatIfPreference and $ConfirmPreference as seen from the caller's scope.
/// Why Save-XetFile needs them before the call rather than after: ShouldProcess, when it neither asks nor plays
/// "What if", only writes a "Performing the operation" line at -Verbose, a second line per file beside the file's
/// outcome; and WriteError under ErrorAction Stop leaves the pipeline stopping, after which Ctrl+C no longer reaches
/// StopProcessing, so the files already accepted could not be finished and still be cancellable.
/// </summary>
internal static class CommonPreferences
{
    /// <summary>The action WriteError would take now.</summary>
    public static ActionPreference ErrorAction(PSCmdlet cmdlet)
    {
        if (cmdlet.MyInvocation.BoundParameters.TryGetValue("ErrorAction", out var bound)
            && LanguagePrimitives.TryConvertTo<ActionPreference>(bound, out var action))
            return action;
        return LanguagePrimitives.TryConvertTo<ActionPreference>(cmdlet.GetVariableValue("ErrorActionPreference"), out var preference)
            ? preference
            : ActionPreference.Continue;
    }

    /// <summary>
    /// True when ShouldProcess would do more than return true: play "What if", or ask (a command of
    /// <paramref name="impact"/> at or above the confirm threshold).
    /// </summary>
    public static bool ShouldProcessActs(PSCmdlet cmdlet, ConfirmImpact impact)
    {
        var bound = cmdlet.MyInvocation.BoundParameters;
        var whatIf = bound.TryGetValue("WhatIf", out var whatIfSwitch)
            ? LanguagePrimitives.IsTrue(whatIfSwitch)
            : LanguagePrimitives.IsTrue(cmdlet.GetVariableValue("WhatIfPreference"));
        if (whatIf) return true;
        if (bound.TryGetValue("Confirm", out var confirmSwitch)) return LanguagePrimitives.IsTrue(confirmSwitch);
        var threshold = LanguagePrimitives.TryConvertTo<ConfirmImpact>(cmdlet.GetVariableValue("ConfirmPreference"), out var value)
            ? value
            : ConfirmImpact.High;
        return threshold != ConfirmImpact.None && threshold <= impact;
    }
}
