using System;
using System.Linq;
using System.Reflection;
using System.Threading.Tasks;
using BenchmarkDotNet.Running;

namespace XetPs.Bench;

/// <summary>Marks a static <c>Task&lt;int&gt; Run(string[] args)</c> method as a benchmark command.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class BenchCommandAttribute(string name, string help) : Attribute
{
    public string Name { get; } = name;
    public string Help { get; } = help;
}

/// <summary>
/// Entry point of the benchmark commands. Each command is one comparison or one family of micro-benchmarks;
/// commands that compare against another tool run both in the same run and print ratios, because only
/// ratios from one run mean anything on a shared machine. Commands are found by <see cref="BenchCommandAttribute"/>.
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        var commands = typeof(Program).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static))
            .Select(m => (Method: m, Attr: m.GetCustomAttribute<BenchCommandAttribute>()))
            .Where(c => c.Attr is not null)
            .ToDictionary(c => c.Attr!.Name, c => c);
        if (args.Length == 0 || !commands.TryGetValue(args[0], out var command))
        {
            Console.WriteLine("usage: dotnet run -c Release --project bench/XetPs.Bench -- <command> [args]");
            foreach (var c in commands.Values.OrderBy(c => c.Attr!.Name))
                Console.WriteLine($"  {c.Attr!.Name,-18} {c.Attr.Help}");
            return args.Length == 0 ? 0 : 2;
        }
        try
        {
            var task = (Task<int>)command.Method.Invoke(null, [args.Skip(1).ToArray()])!;
            return await task.ConfigureAwait(false);
        }
        catch (Exception ex) when (IsUsageError(ex))
        {
            // A mistyped flag or value: say which and show the command's usage, not a stack trace.
            Console.Error.WriteLine($"bench {args[0]}: {ex.Message}");
            Console.Error.WriteLine($"usage: {args[0]} {command.Attr!.Help}");
            return 2;
        }
    }

    /// <summary>What the commands' argument parsing throws (an unknown flag, a value that does not parse). The same
    /// exception types thrown from inside the engine are bugs or data errors, not usage: those keep their stack.</summary>
    private static bool IsUsageError(Exception ex) =>
        ex is ArgumentException or FormatException or OverflowException
        && !new System.Diagnostics.StackTrace(ex).GetFrames().Any(f => f.GetMethod()?.DeclaringType?.Assembly is { } a
                                                                         && a != typeof(Program).Assembly
                                                                         && a.GetName().Name!.StartsWith("XetPs", StringComparison.Ordinal));

    [BenchCommand("micro", "BenchmarkDotNet micro-benchmarks; BenchmarkDotNet arguments follow, e.g. --filter *Blake3*")]
    private static Task<int> RunMicro(string[] args)
    {
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return Task.FromResult(0);
    }
}
