using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;

namespace XetPs.Host;

/// <summary>
/// What tools/ps was asked to run: PowerShell text (-Command) or a script file with its arguments (-File), parsed
/// from pwsh's own switches. Invariant: a file's arguments reach it the way pwsh -File passes them (parameter names
/// stay names, everything else is a literal string), never re-parsed as PowerShell code.
/// </summary>
internal sealed class Invocation
{
    public const string Usage =
        "usage: tools/ps -Command '<PowerShell text>'   (-Command - reads it from standard input)\n" +
        "       tools/ps -File <script.ps1> [arguments]\n" +
        "Runs PowerShell 7.6 (hosted) with the built XetPs module imported.";

    private Invocation(string? command, string? file, IReadOnlyList<string> fileArguments, bool showHelp)
    {
        Command = command;
        File = file;
        FileArguments = fileArguments;
        ShowHelp = showHelp;
    }

    public string? Command { get; }
    public string? File { get; }
    public IReadOnlyList<string> FileArguments { get; }
    public bool ShowHelp { get; }

    public static Invocation Parse(IReadOnlyList<string> args)
    {
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            switch (arg.ToLowerInvariant())
            {
                case "-noprofile" or "-nop" or "-noninteractive" or "-nologo":
                    continue; // nothing to turn off: this host has no profile, no banner, no interactive prompt
                case "-h" or "-help" or "--help" or "-?" or "/?":
                    return new Invocation(null, null, Array.Empty<string>(), showHelp: true);
                case "-command" or "-c":
                    if (i + 1 >= args.Count) throw new ArgumentException("-Command needs the PowerShell text to run.");
                    // pwsh joins everything after -Command into one script.
                    return new Invocation(string.Join(" ", args.Skip(i + 1)), null, Array.Empty<string>(), false);
                case "-file" or "-f":
                    if (i + 1 >= args.Count) throw new ArgumentException("-File needs the path of a script.");
                    return new Invocation(null, args[i + 1], args.Skip(i + 2).ToList(), false);
                default:
                    if (arg.StartsWith("-", StringComparison.Ordinal))
                        throw new ArgumentException($"Unknown switch '{arg}'.");
                    // Like pwsh: a bare first argument is a script file.
                    return new Invocation(null, arg, args.Skip(i + 1).ToList(), false);
            }
        }
        return new Invocation(null, null, Array.Empty<string>(), showHelp: true);
    }

    /// <summary>The script text that invokes <see cref="File"/> with its arguments.</summary>
    public string FileScript(string fullPath)
    {
        var text = new StringBuilder("& ").Append(Quote(fullPath));
        foreach (var argument in FileArguments)
        {
            text.Append(' ');
            text.Append(IsParameterName(argument) ? argument : Quote(argument));
        }
        return text.ToString();
    }

    private static bool IsParameterName(string argument) =>
        argument.Length > 1 && argument[0] == '-' && (char.IsLetter(argument[1]) || argument[1] == '_')
        && argument.Skip(1).All(c => char.IsLetterOrDigit(c) || c == '_' || c == ':' || c == '-');

    private static string Quote(string literal) => "'" + literal.Replace("'", "''") + "'";
}
