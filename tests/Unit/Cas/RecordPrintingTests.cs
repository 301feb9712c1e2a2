using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using System.Runtime.CompilerServices;
using XetPs.Cas;
using XetPs.Format;
using XetPs.Hub;

namespace XetPs.Tests.Cas;

/// <summary>
/// C# records print every property in ToString, so a record holding a presigned URL printed its signature into any
/// log line or message that interpolated it. Records that hold URLs print them without their query.
/// </summary>
public class RecordPrintingTests
{
    private const string Signature = "Signature=s3cr3t-signature";
    private static readonly Uri Presigned = new("https://cdn.test/xorb/default/abc?X-Xet-Signed-Range=bytes%3D0-99&Expires=1&" + Signature);
    private static readonly XetHash Xorb = XetHash.Parse(new string('a', 64));

    private static XorbFetch Fetch() => new(Xorb, Presigned, new[] { new XorbRangeDescriptor(new ChunkRange(0, 2), 0, 99) });

    [Fact]
    public void A_xorb_fetch_prints_its_url_without_the_signature()
    {
        var text = Fetch().ToString();

        Assert.DoesNotContain(Signature, text);
        Assert.DoesNotContain("Expires", text);
        Assert.Contains("https://cdn.test/xorb/default/abc", text);
        Assert.Contains(Xorb.ToString(), text);
    }

    [Fact]
    public void A_file_reconstruction_prints_none_of_its_fetch_urls()
    {
        var reconstruction = new FileReconstruction(0, new[] { new ReconstructionTerm(Xorb, new ChunkRange(0, 2), 1000) },
            new Dictionary<XetHash, IReadOnlyList<XorbFetch>> { [Xorb] = new[] { Fetch() } });

        var text = reconstruction.ToString();

        Assert.DoesNotContain(Signature, text);
        Assert.Contains("Terms = 1", text);
    }

    [Fact]
    public void A_resolved_file_prints_its_presigned_download_url_without_the_signature()
    {
        var entry = new RepoEntry(new RepoId(RepoType.Model, "org/name"), new string('0', 40), "model.bin", 100, null, null, false, null);
        var text = new HubFileInfo(entry, null, Presigned).ToString();

        Assert.DoesNotContain(Signature, text);
        Assert.Contains("https://cdn.test/xorb/default/abc", text);
    }

    [Fact]
    public void Every_engine_record_that_holds_a_url_prints_it_through_members_of_its_own()
    {
        // The compiler writes a record's ToString and PrintMembers (marked CompilerGenerated), printing every property:
        // a record with a Uri property must write its own, as the ones above do.
        var records = typeof(XorbFetch).Assembly.GetTypes()
            .Where(t => t.GetMethod("<Clone>$") is not null)
            .Where(t => t.GetProperties(BindingFlags.Public | BindingFlags.Instance).Any(p => p.PropertyType == typeof(Uri)))
            .ToList();
        Assert.Contains(typeof(XorbFetch), records);
        foreach (var record in records)
        {
            var own = record.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.DeclaredOnly)
                .Where(m => m.Name is "ToString" or "PrintMembers")
                .Any(m => m.GetCustomAttribute<CompilerGeneratedAttribute>() is null);
            Assert.True(own, $"{record.Name} prints its URL with the compiler's ToString");
        }
    }
}
