using System;
using System.ComponentModel;
using System.Diagnostics;
using System.IO;
using System.Text;
using XetPs.Format;

namespace XetPs.Tests.Format;

/// <summary>
/// Cross-checks keyed BLAKE3 against Debian's b3sum on lengths the vector file does not cover.
/// When b3sum is absent: with CI=true the test fails (CI installs it, so absence is a broken CI image);
/// otherwise it falls back to checking the same lengths that the JSON vectors do hold, so it never passes vacuously.
/// </summary>
public class Blake3B3sumTests
{
    private static readonly int[] AwkwardLengths = { 0, 1, 1023, 1024, 1025, 64 * 1024 + 7, 1024 * 1024 + 3 };

    [Fact]
    public void Keyed_hash_matches_b3sum_on_awkward_lengths_or_vectors_when_b3sum_is_absent_outside_CI()
    {
        string? b3sum = FindOnPath("b3sum");
        if (b3sum is null)
        {
            Assert.False(string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase),
                "b3sum is not installed but CI=true: install it (apt-get install -y b3sum) so the cross-check runs.");
            var vectorKey = Encoding.ASCII.GetBytes(FormatVectors.Blake3.GetProperty("key").GetString()!);
            foreach (int length in new[] { 0, 1, 1023, 1024, 1025 })
                Assert.Equal(FormatVectors.Blake3Case(length).GetProperty("keyed_hash").GetString()![..64],
                    Convert.ToHexStringLower(Blake3.KeyedHash(vectorKey, FormatVectors.Blake3Input(length)).ToArray()));
            return;
        }

        var rng = new Random(1234);
        var key = new byte[32];
        rng.NextBytes(key);
        foreach (int length in AwkwardLengths)
        {
            var data = new byte[length];
            rng.NextBytes(data);
            string expected = RunB3sum(b3sum, key, data);
            foreach (bool forceScalar in new[] { false, true })
            {
                var ours = new byte[32];
                Blake3.KeyedHash(key, data, ours, forceScalar);
                Assert.True(expected == Convert.ToHexStringLower(ours),
                    $"length {length}, scalar={forceScalar}: b3sum says {expected}, we say {Convert.ToHexStringLower(ours)}");
            }
        }
    }

    private static string RunB3sum(string b3sum, byte[] key, byte[] data)
    {
        string path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, data);
            var psi = new ProcessStartInfo(b3sum)
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            psi.ArgumentList.Add("--keyed");
            psi.ArgumentList.Add("--no-names");
            psi.ArgumentList.Add(path);
            using var process = Process.Start(psi) ?? throw new Win32Exception($"Could not start {b3sum}.");
            // The key is read from stdin as exactly 32 raw bytes.
            process.StandardInput.BaseStream.Write(key);
            process.StandardInput.Close();
            string stdout = process.StandardOutput.ReadToEnd();
            string stderr = process.StandardError.ReadToEnd();
            process.WaitForExit();
            Assert.True(process.ExitCode == 0, $"b3sum exited with {process.ExitCode}: {stderr}");
            return stdout.Trim();
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static string? FindOnPath(string name)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator))
        {
            if (dir.Length == 0) continue;
            string candidate = Path.Combine(dir, name);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }
}
