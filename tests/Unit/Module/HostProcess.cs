using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading.Tasks;

namespace XetPs.Tests.Module;

/// <summary>
/// Runs the tools/ps host (XetPs.Host.dll, built with the tests) as a child process with the test build's module,
/// and returns its exit code and both output streams. Bounded: a host that hangs is killed after two minutes.
/// </summary>
internal static class HostProcess
{
    public sealed record Outcome(int ExitCode, string Stdout, string Stderr)
    {
        public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
    }

    public static Outcome Run(params string[] arguments) => Run(new Dictionary<string, string>(), arguments);

    /// <summary>
    /// Runs the host with extra environment variables (XETPS_MODULE_PATH overrides the module imported; an empty
    /// value removes a variable).
    /// </summary>
    public static Outcome Run(IReadOnlyDictionary<string, string> environment, params string[] arguments) =>
        Run(environment, null, arguments);

    /// <summary>
    /// Runs the host on a pseudo-terminal, as from an interactive shell: through util-linux's <c>script</c> (Debian's
    /// essential bsdutils), whose output is what the terminal received (CR LF line ends, the host's escape sequences).
    /// </summary>
    public static Outcome RunOnTerminal(params string[] arguments)
    {
        static string Quote(string s) => "'" + s.Replace("'", "'\\''") + "'";
        var command = string.Join(' ', new[] { "dotnet", HostPath }.Concat(arguments).Select(Quote));
        var start = StartInfo(new Dictionary<string, string> { ["TERM"] = "xterm" }, []);
        start.FileName = "script";
        start.ArgumentList.Clear();
        foreach (var argument in new[] { "-q", "-e", "-c", command, "/dev/null" }) start.ArgumentList.Add(argument);
        return Run(start, standardInput: string.Empty); // closed at once: the host reads nothing here
    }

    /// <summary>Runs the host with <paramref name="standardInput"/> as its whole standard input (then closed).</summary>
    public static Outcome RunWithInput(string standardInput, params string[] arguments) =>
        Run(new Dictionary<string, string>(), standardInput, arguments);

    private static Outcome Run(IReadOnlyDictionary<string, string> environment, string? standardInput, string[] arguments) =>
        Run(StartInfo(environment, arguments), standardInput);

    /// <summary>Starts <paramref name="start"/>, feeds it <paramref name="standardInput"/> (none: the inherited one)
    /// and collects both output streams, bounded in time.</summary>
    private static Outcome Run(ProcessStartInfo start, string? standardInput)
    {
        start.RedirectStandardInput = standardInput is not null;
        using var process = Process.Start(start)!;
        if (standardInput is not null)
        {
            process.StandardInput.Write(standardInput);
            process.StandardInput.Close();
        }
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        WaitBounded(process);
        return new Outcome(process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>
    /// Runs the host until its first line of output equals <paramref name="readyLine"/>, then sends SIGINT, which is
    /// what the terminal sends on Ctrl+C, and returns how the host ended (stdout holds the lines after the ready one).
    /// </summary>
    public static Outcome RunAndInterrupt(string readyLine, params string[] arguments)
    {
        using var process = Process.Start(StartInfo(new Dictionary<string, string>(), arguments, foregroundSigInt: true))!;
        var stderr = process.StandardError.ReadToEndAsync();
        var first = process.StandardOutput.ReadLineAsync();
        if (!first.Wait(TimeSpan.FromMinutes(2)) || first.Result != readyLine)
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"the host did not print '{readyLine}' first (it printed '{(first.IsCompleted ? first.Result : null)}'); stderr: {stderr.Result}");
        }
        if (SendSignal(process.Id, SigInt) != 0)
            throw new InvalidOperationException($"kill(SIGINT) failed with errno {Marshal.GetLastPInvokeError()}");
        var rest = process.StandardOutput.ReadToEndAsync();
        WaitBounded(process);
        return new Outcome(process.ExitCode, rest.Result, stderr.Result);
    }

    private const int SigInt = 2;

    // tools/ps is a POSIX shell script, so its host runs where libc's kill(2) exists.
    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);

    /// <param name="foregroundSigInt">
    /// Start the host the way a terminal starts a foreground job: with SIGINT at its default disposition. Why: a test
    /// run started in the background of a non-interactive shell (`.ci/run &`, a scheduler) inherits SIGINT ignored,
    /// an ignored signal stays ignored across exec, and .NET rightly leaves an inherited ignore alone, so the host
    /// never saw the signal and the Ctrl+C spec hung for its two minutes. GNU env's --default-signal resets it.
    /// </param>
    private static ProcessStartInfo StartInfo(IReadOnlyDictionary<string, string> environment, string[] arguments,
                                              bool foregroundSigInt = false)
    {
        var start = new ProcessStartInfo(foregroundSigInt ? "env" : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (foregroundSigInt)
        {
            start.ArgumentList.Add("--default-signal=INT");
            start.ArgumentList.Add("dotnet");
        }
        start.ArgumentList.Add(HostPath);
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        start.Environment["POWERSHELL_TELEMETRY_OPTOUT"] = "1";
        start.Environment["XETPS_MODULE_PATH"] = ModuleRunspace.ManifestPath;
        // An empty value removes the variable, so a test does not depend on what the developer's shell exports.
        foreach (var pair in environment)
        {
            if (pair.Value.Length == 0) start.Environment.Remove(pair.Key);
            else start.Environment[pair.Key] = pair.Value;
        }
        return start;
    }

    private static void WaitBounded(Process process)
    {
        if (!process.WaitForExit(120_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("the tools/ps host did not finish within 2 minutes");
        }
    }

    private static string HostPath => ModuleRunspace.Metadata("XetPsHostPath");
}
