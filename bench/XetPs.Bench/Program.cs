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
        var task = (Task<int>)command.Method.Invoke(null, [args.Skip(1).ToArray()])!;
        return await task.ConfigureAwait(false);
    }

    [BenchCommand("micro", "BenchmarkDotNet micro-benchmarks; BenchmarkDotNet arguments follow, e.g. --filter *Blake3*")]
    private static Task<int> RunMicro(string[] args)
    {
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return Task.FromResult(0);
    }
}
