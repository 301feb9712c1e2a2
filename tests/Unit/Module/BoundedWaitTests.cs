using System;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Threading.Tasks;

namespace XetPs.Tests.Module;

/// <summary>
/// The cmdlets' bounded cleanup waits: in time or not, and a failure keeps its own type. BoundedWait is internal to
/// the cmdlet assembly, which the tests load only as PowerShell does (through the module), so it is reached by
/// reflection on the assembly the module loaded.
/// </summary>
public sealed class BoundedWaitTests : IDisposable
{
    private readonly ModuleRunspace _ps = new();
    private readonly MethodInfo _for;

    public BoundedWaitTests()
    {
        var cmdlets = AppDomain.CurrentDomain.GetAssemblies()
            .First(a => a.GetName().Name == "XetPs" && a.GetType("XetPs.Commands.BoundedWait") is not null);
        _for = cmdlets.GetType("XetPs.Commands.BoundedWait", throwOnError: true)!.GetMethod("For", BindingFlags.Public | BindingFlags.Static)!;
    }

    public void Dispose() => _ps.Dispose();

    private bool For(ValueTask cleanup, TimeSpan timeout)
    {
        try
        {
            return (bool)_for.Invoke(null, new object[] { cleanup, timeout })!;
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            throw e.InnerException; // reflection's own wrapper, not the one under test
        }
    }

    [Fact]
    public void A_failed_cleanup_throws_its_own_exception_not_an_AggregateException()
    {
        var cause = new IOException("the journal could not be closed");

        var thrown = Assert.Throws<IOException>(() => For(new ValueTask(Task.FromException(cause)), TimeSpan.FromSeconds(1)));

        Assert.Same(cause, thrown);
    }

    [Fact]
    public void A_finished_cleanup_reports_true_and_one_still_running_reports_false()
    {
        var never = new TaskCompletionSource();

        Assert.True(For(ValueTask.CompletedTask, TimeSpan.Zero));
        Assert.False(For(new ValueTask(never.Task), TimeSpan.FromMilliseconds(10)));
    }
}
