using System.Threading;
using System.Threading.Tasks;
using XetPs.Hub;
using XetPs.Emulator.Store;


namespace XetPs.Emulator.Scenario;

/// <summary>
/// The built-in demo repo <c>xetps/sample</c> that the README's main job runs against: a few files, some in Xet
/// (a safetensors-like float file, random data, a long text), some plain (README, config, a small CSV), one folder.
/// Generated content with cache keys: built once per store.
/// </summary>
public static class SampleRepo
{
    public static RepoId Id { get; } = new(RepoType.Model, "xetps/sample");

    public static Task<RepoCommit> CreateAsync(EmulatorStore store, CancellationToken cancellationToken = default) =>
        store.CommitAsync(Id, "main", new[]
        {
            RepoFile.FromText("README.md", "# xetps/sample\n\nA demo repo served by the XetPs emulator: some files in Xet, some plain.\n"),
            RepoFile.FromText("config.json", "{\n  \"architectures\": [\"SampleModel\"],\n  \"hidden_size\": 64,\n  \"torch_dtype\": \"float32\"\n}\n"),
            ScenarioData.SafetensorsFile("model.safetensors", 3 << 20, seed: 11),
            ScenarioData.IncompressibleFile("data/train-00000.bin", 2 << 20, seed: 12),
            ScenarioData.TextFile("data/corpus.txt", (3 << 20) / 2, seed: 13),
            ScenarioData.TextFile("data/labels.csv", 4096, seed: 14),
        }, new CommitOptions { Title = "Sample repo", XetMinSize = 1 << 20 }, cancellationToken);
}
