using System;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading.Tasks;
using XetPs.Emulator.Store;

using XetPs.Emulator.Scenario;


namespace XetPs.Emulator;

/// <summary>
/// The emulator as a command: builds the repos named on the command line (or the sample repo), prints the base
/// URL as the first line of standard output and the repo names after it, and serves until SIGINT or SIGTERM.
/// </summary>
public static class Program
{
    /// <summary>The repo <c>--incident</c> serves.</summary>
    public static XetPs.Hub.RepoId SeedIncidentRepo { get; } = XetPs.Hub.RepoId.Parse("xetps/incident");

    public static async Task<int> Main(string[] args)
    {
        EmulatorCommandLine command;
        try
        {
            command = EmulatorCommandLine.Parse(args);
        }
        catch (ArgumentException ex)
        {
            Console.Error.WriteLine("error: " + ex.Message);
            Console.Error.WriteLine(EmulatorCommandLine.Usage);
            return 2;
        }
        if (command.Help)
        {
            Console.WriteLine(EmulatorCommandLine.Usage);
            return 0;
        }

        var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.TrySetResult(); });
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.TrySetResult(); });

        try
        {
            await using var server = await EmulatorServer.StartAsync(command.ToOptions()).ConfigureAwait(false);
            foreach (string fault in command.Faults) server.Faults.Add(fault);
            if (command.LogRequests) server.Log.Added += e => Console.Error.WriteLine(RequestLog.Format(e));
            var names = new System.Collections.Generic.List<string>();
            foreach (var (repo, folder) in command.Repos)
            {
                await server.Store.CommitAsync(repo, "main", RepoFile.FromFolder(folder), new CommitOptions { Title = "Import " + Path.GetFileName(Path.GetFullPath(folder)) }).ConfigureAwait(false);
                names.Add(repo.ToString());
            }
            if (command.IncidentSize is long incident)
            {
                await server.Store.CommitAsync(SeedIncidentRepo, "main",
                    new[] { ScenarioData.SeedIncidentFile("incident.bin", new SeedIncident { FileSize = incident }) }).ConfigureAwait(false);
                names.Add(SeedIncidentRepo.ToString());
            }
            if (command.Sample || (command.Repos.Count == 0 && command.IncidentSize is null))
            {
                await SampleRepo.CreateAsync(server.Store).ConfigureAwait(false);
                names.Add(SampleRepo.Id.ToString());
            }
            foreach (var p in command.PrivateRepos) server.Store.CreateRepo(p, isPrivate: true);

            Console.WriteLine(server.BaseUrl.ToString().TrimEnd('/'));
            foreach (string name in names.Distinct()) Console.WriteLine(name);
            await stop.Task.ConfigureAwait(false);
            return 0;
        }
        catch (Exception ex) when (ex is IOException or FormatException or ArgumentException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine("error: " + ex.Message);
            return 1;
        }
    }
}
