using System.IO;
using System.Linq;

namespace XetPs.Tests.Module;

/// <summary>tools/ps (the XetPs.Host process): pwsh's command line, output, errors, progress and exit codes.</summary>
public sealed class PsHostTests
{
    [Fact]
    public void A_file_gets_its_arguments_as_parameters_and_its_exit_code_is_the_process_exit_code()
    {
        var script = Path.Combine(Path.GetTempPath(), "xetps-host-" + System.Guid.NewGuid().ToString("n") + ".ps1");
        File.WriteAllText(script, "param($Name, [int]$Count)\n\"hello $Name x$Count\"\nexit 3\n");
        try
        {
            var outcome = HostProcess.Run("-File", script, "-Name", "O'Brien", "-Count", "2");

            Assert.Equal(3, outcome.ExitCode);
            Assert.Equal("hello O'Brien x2", outcome.Stdout.Trim());
        }
        finally
        {
            File.Delete(script);
        }
    }

    [Fact]
    public void A_script_terminating_error_is_printed_like_pwsh_and_exits_1()
    {
        var outcome = HostProcess.Run("-Command", "'before'; throw 'boom'; 'after'");

        Assert.Equal(1, outcome.ExitCode);
        Assert.Equal("before", outcome.Stdout.Trim());
        Assert.Contains("Exception: boom", outcome.Stderr);
    }

    [Fact]
    public void A_failed_last_statement_exits_1_and_a_failure_followed_by_success_exits_0()
    {
        var failedLast = HostProcess.Run("-Command", "'one'; [int]::Parse('x')");
        var recovered = HostProcess.Run("-Command", "[int]::Parse('x'); 'two'");

        Assert.Equal(1, failedLast.ExitCode);
        Assert.Contains("MethodInvocationException", failedLast.Stderr);
        Assert.Equal(0, recovered.ExitCode);
        Assert.Equal("two", recovered.Stdout.Trim());
    }

    [Fact]
    public void Write_host_lines_are_shown_once_and_no_newline_joins_them_as_in_pwsh()
    {
        var outcome = HostProcess.Run("-Command",
            "Write-Host 'one'; Write-Host 'two' -NoNewline; Write-Host 'three'; Write-Information 'info' -InformationAction Continue; " +
            "$captured = Write-Host 'kept' 6>&1; \"captured $captured\"");

        Assert.True(outcome.ExitCode == 0, outcome.ToString());
        Assert.Equal(["one", "twothree", "info", "captured kept"], outcome.Stdout.Replace("\r", string.Empty).TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public void On_a_terminal_write_host_shows_its_colours_in_ansi_and_plain_text_stays_plain()
    {
        var outcome = HostProcess.RunOnTerminal("-Command",
            "Write-Host 'plain'; Write-Host 'green' -ForegroundColor Green; Write-Host 'on red' -BackgroundColor DarkRed");

        Assert.True(outcome.ExitCode == 0, outcome.ToString());
        Assert.Contains("plain\r\n", outcome.Stdout);
        Assert.DoesNotMatch("\u001b\\[[0-9;]*mplain", outcome.Stdout);
        Assert.Contains("\u001b[92mgreen\u001b[0m", outcome.Stdout);
        Assert.Contains("\u001b[41mon red\u001b[0m", outcome.Stdout);
    }

    [Fact]
    public void A_command_that_does_not_parse_runs_nothing_shows_the_syntax_error_and_exits_1()
    {
        // Both used to run and exit 0: the host's own status line, appended to the text, completed the open expression.
        var openAssignment = HostProcess.Run("-Command", "'before'; $x = ");
        var openParenthesis = HostProcess.Run("-Command", "'before'; $y = (1 +");

        Assert.Equal(1, openAssignment.ExitCode);
        Assert.Equal(string.Empty, openAssignment.Stdout);
        Assert.Contains("ParserError", openAssignment.Stderr);
        Assert.Contains("You must provide a value expression following the '=' operator.", openAssignment.Stderr);
        Assert.Equal(1, openParenthesis.ExitCode);
        Assert.Contains("   1 |  'before'; $y = (1 +", openParenthesis.Stderr);
    }

    [Fact]
    public void Command_dash_reads_the_text_from_standard_input_as_pwsh_does()
    {
        var outcome = HostProcess.RunWithInput("'from stdin'\n1 + 1\n", "-Command", "-");

        Assert.True(outcome.ExitCode == 0, outcome.ToString());
        Assert.Equal(["from stdin", "2"], outcome.Stdout.Replace("\r", string.Empty).TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public void Objects_are_formatted_as_a_table_like_pwsh()
    {
        var outcome = HostProcess.Run("-Command", "[pscustomobject]@{ Name = 'config.json'; Size = 123 }, [pscustomobject]@{ Name = 'model.bin'; Size = 4567 }");

        Assert.Equal(0, outcome.ExitCode);
        var lines = outcome.Stdout.Replace("\r", string.Empty).Split('\n');
        Assert.Contains(lines, l => l.StartsWith("Name") && l.TrimEnd().EndsWith("Size"));
        Assert.Contains(lines, l => l.StartsWith("config.json") && l.TrimEnd().EndsWith("123"));
    }

    [Fact]
    public void The_everyday_cmdlets_of_pwsh_run_beside_the_modules_own()
    {
        // Until 2026-12-03 the host had only Microsoft.PowerShell.Core: Select-Object, Sort-Object, Format-Table,
        // Get-ChildItem and Start-Sleep were "not recognized" (pwsh's Utility, Management and Security modules).
        var folder = Directory.CreateTempSubdirectory("xetps-host-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(folder, "b.txt"), "22");
            File.WriteAllText(Path.Combine(folder, "a.txt"), "1");
            var outcome = HostProcess.Run("-Command",
                $"Start-Sleep -Milliseconds 1; Get-ChildItem -LiteralPath '{folder}' | Sort-Object Length -Descending | Select-Object -First 1 -ExpandProperty Name; " +
                "[pscustomobject]@{ Path = 'config.json'; Size = 123 } | Format-Table Size; (1..4 | Measure-Object -Sum).Sum; " +
                "(Get-FileHash -LiteralPath (Join-Path '" + folder + "' 'a.txt') -Algorithm SHA256).Hash; Get-Command Save-XetFile | ForEach-Object Name");

            Assert.True(outcome.ExitCode == 0, outcome.ToString());
            var lines = outcome.Stdout.Replace("\r", string.Empty).Split('\n', System.StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal("b.txt", lines[0]);
            Assert.Equal(["Size", "----", " 123"], lines[1..4].Select(l => l.TrimEnd()));
            Assert.Equal("10", lines[4]);
            Assert.Equal("6B86B273FF34FCE19D6B804EFF5A3F5747ADA4EAA22F1D49C01E52DDB7875B4B", lines[5]); // sha256("1")
            Assert.Equal("Save-XetFile", lines[6]);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Progress_is_written_as_plain_lines_on_stderr_when_redirected()
    {
        var outcome = HostProcess.Run("-Command",
            "function Step { [CmdletBinding()] param() " +
            "$r = [System.Management.Automation.ProgressRecord]::new(1, 'Copying', '1 of 2 files'); $r.PercentComplete = 50; $PSCmdlet.WriteProgress($r); " +
            "$r.StatusDescription = '2 of 2 files'; $r.PercentComplete = 100; $PSCmdlet.WriteProgress($r); " +
            "$r.RecordType = 'Completed'; $PSCmdlet.WriteProgress($r); 'finished' }; Step");

        Assert.Equal(0, outcome.ExitCode);
        Assert.Equal("finished", outcome.Stdout.Trim());
        Assert.Contains("Copying: 1 of 2 files 50%", outcome.Stderr);
        // The last line is the state the activity ended in, even when the one-a-second throttle held it back.
        Assert.EndsWith("Copying: 2 of 2 files 100%; ended", outcome.Stderr.TrimEnd());
        Assert.DoesNotContain("\u001b[", outcome.Stderr);
    }

    [Fact]
    public void Ctrl_C_stops_the_running_pipeline_and_exits_130()
    {
        // The loop never ends by itself: only the stop that SIGINT requests can end it.
        var outcome = HostProcess.RunAndInterrupt("started",
            "-Command", "'started'; while ($true) { [System.Threading.Thread]::Sleep(20) }; 'after the loop'");

        Assert.Equal(130, outcome.ExitCode);
        Assert.DoesNotContain("after the loop", outcome.Stdout);
    }
}
