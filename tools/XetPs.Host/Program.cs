using System;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using System.Management.Automation.Runspaces;
using System.Reflection;

namespace XetPs.Host;

/// <summary>
/// tools/ps: PowerShell without pwsh. Opens a runspace on the served engine with the built XetPs module imported
/// (a module that fails to load fails the run), runs the text or file through Out-Default on
/// <see cref="ConsoleHost"/>, and exits like pwsh: 0 when the last statement succeeded, 1 after a failure or a
/// script-terminating error, the script's own `exit N`, 130 when stopped by Ctrl+C.
/// </summary>
public static class Program
{
    // The variable the wrapper sets to the last statement's success ($?): the exit code is read from it.
    private const string StatusVariable = "__XetPsHostLastStatementSucceeded";

    public static int Main(string[] args)
    {
        Invocation invocation;
        try
        {
            invocation = Invocation.Parse(args);
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine(e.Message);
            Console.Error.WriteLine(Invocation.Usage);
            return 64;
        }
        if (invocation.ShowHelp)
        {
            Console.WriteLine(Invocation.Usage);
            return 0;
        }

        var manifest = ModuleManifestPath();
        var host = new ConsoleHost();
        // CreateDefault, not CreateDefault2: pwsh finds Microsoft.PowerShell.Utility, .Management and .Security as
        // module folders under $PSHOME, which the engine's packages do not ship; their assemblies, referenced here,
        // load as the built-in snap-ins instead, so Select-Object, Format-Table, Get-ChildItem ... run as in pwsh.
        var state = InitialSessionState.CreateDefault();
        state.ImportPSModule(manifest);
        state.ThrowOnRunspaceOpenError = true;
        using var runspace = RunspaceFactory.CreateRunspace(host, state);
        try
        {
            runspace.Open();
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"tools/ps: the XetPs module at '{manifest}' could not be imported: {e.Message}");
            if (Environment.GetEnvironmentVariable("XETPS_HOST_DEBUG") == "1") Console.Error.WriteLine(e.ToString());
            return 1;
        }
        return Run(runspace, host, invocation);
    }

    private static int Run(Runspace runspace, ConsoleHost host, Invocation invocation)
    {
        string script;
        if (invocation.File is not null)
        {
            var full = Path.GetFullPath(invocation.File);
            if (!File.Exists(full))
            {
                Console.Error.WriteLine($"tools/ps: the script '{invocation.File}' does not exist.");
                return 64;
            }
            runspace.SessionStateProxy.SetVariable("global:LASTEXITCODE", null);
            script = invocation.FileScript(full);
        }
        else
        {
            // "-Command -" reads the text from standard input, as pwsh does.
            script = invocation.Command == "-" ? Console.In.ReadToEnd() : invocation.Command!;
            // Parsed on its own first: the status line appended below must not complete a statement the text left
            // open ("$x = " ran as "$x = $global:...Status = $?" and exited 0), nor move an error's position into it.
            if (ReportParseError(script)) return 1;
        }

        using var ps = PowerShell.Create();
        ps.Runspace = runspace;
        ps.AddScript(script + "\n$global:" + StatusVariable + " = $?");
        ps.Commands.Commands[0].MergeMyResults(PipelineResultTypes.Error, PipelineResultTypes.Output);
        ps.AddCommand("Out-Default");

        var stopRequested = false;
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            if (stopRequested) return; // a second Ctrl+C ends the process the usual way
            stopRequested = true;
            e.Cancel = true;
            ps.BeginStop(_ => { }, null);
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            ps.Invoke();
        }
        catch (PipelineStoppedException)
        {
            host.ConsoleUI.ClearProgress();
            return 130;
        }
        catch (RuntimeException e)
        {
            // A script-terminating error (throw, -ErrorAction Stop): shown the way pwsh shows it, then exit 1.
            host.ConsoleUI.ClearProgress();
            Show(runspace, e.ErrorRecord);
            return host.ShouldExit ? host.ExitCode : 1;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
            host.ConsoleUI.ClearProgress();
        }

        if (host.ShouldExit) return host.ExitCode;
        if (stopRequested) return 130;
        if (invocation.File is not null && runspace.SessionStateProxy.GetVariable("global:LASTEXITCODE") is { } code
            && LanguagePrimitives.TryConvertTo<int>(code, out var exitCode))
            return exitCode;
        var succeeded = runspace.SessionStateProxy.GetVariable("global:" + StatusVariable);
        return succeeded is bool ok && !ok ? 1 : 0;
    }

    /// <summary>
    /// Prints the first syntax error of <paramref name="script"/> in pwsh's concise error view and returns true, or
    /// returns false when the text parses.
    /// </summary>
    private static bool ReportParseError(string script)
    {
        Parser.ParseInput(script, out _, out var errors);
        if (errors.Length == 0) return false;
        var error = errors[0];
        var extent = error.Extent;
        var lines = script.Replace("\r\n", "\n").Split('\n');
        var line = lines[Math.Clamp(extent.StartLineNumber, 1, lines.Length) - 1].TrimEnd('\r');
        var start = Math.Clamp(extent.StartColumnNumber, 1, line.Length + 1);
        var end = extent.EndLineNumber == extent.StartLineNumber ? Math.Max(extent.EndColumnNumber, start + 1) : line.Length + 1;
        Console.Error.WriteLine("ParserError: ");
        Console.Error.WriteLine("Line |");
        Console.Error.WriteLine($"{extent.StartLineNumber,4} |  {line}");
        Console.Error.WriteLine($"     |  {new string(' ', start - 1)}{new string('~', Math.Max(1, end - start))}");
        Console.Error.WriteLine($"     | {error.Message}");
        return true;
    }

    private static void Show(Runspace runspace, ErrorRecord record)
    {
        // Re-emitted on an error stream merged into Out-Default: the same path, view and stream (stderr) as the
        // script's own errors.
        using var ps = PowerShell.Create();
        ps.Runspace = runspace;
        ps.AddScript("param($record) & { [CmdletBinding()] param($record) $PSCmdlet.WriteError($record) } $record").AddArgument(record);
        ps.Commands.Commands[0].MergeMyResults(PipelineResultTypes.Error, PipelineResultTypes.Output);
        ps.AddCommand("Out-Default");
        try
        {
            ps.Invoke();
        }
        catch (RuntimeException)
        {
            Console.Error.WriteLine(record.ToString());
        }
    }

    /// <summary>
    /// XETPS_MODULE_PATH (a folder, a .psd1 or a cmdlet .dll) when set, else the folder the build assembled (see
    /// module/XetPs.Module.props).
    /// </summary>
    private static string ModuleManifestPath()
    {
        var configured = Environment.GetEnvironmentVariable("XETPS_MODULE_PATH");
        var folder = !string.IsNullOrWhiteSpace(configured)
            ? configured!
            : typeof(Program).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
                .First(a => a.Key == "XetPsModuleDir").Value!;
        // A manifest or an assembly (e.g. desktop/XetPs.dll, to try the netstandard2.0 build) is imported as given.
        return folder.EndsWith(".psd1", StringComparison.OrdinalIgnoreCase) || folder.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)
            ? folder
            : Path.Combine(folder, "XetPs.psd1");
    }
}
