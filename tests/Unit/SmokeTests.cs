namespace XetPs.Tests;

public class SmokeTests
{
    [Fact]
    public void Hosted_runspace_opens()
    {
        var iss = System.Management.Automation.Runspaces.InitialSessionState.CreateDefault2();
        using var ps = System.Management.Automation.PowerShell.Create(iss);
        ps.AddScript("1 + 1");
        var r = ps.Invoke();
        Assert.Equal(2, (int)r[0].BaseObject);
    }
}
