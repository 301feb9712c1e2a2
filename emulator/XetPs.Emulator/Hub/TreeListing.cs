using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using XetPs.Emulator.Faults;

using XetPs.Emulator.Store;


namespace XetPs.Emulator.Hub;

/// <summary>One entry of a tree page: a file (with its stored metadata) or a directory.</summary>
internal sealed record TreeEntry(string Type, string Path, string Oid, StoredFile? File);

/// <summary>
/// Lists a commit's tree the way the Hub does (PROTOCOL.md §1.4): the children of a folder, or with
/// <c>recursive</c> every file and folder under it, sorted by path; Xet files carry <c>lfs</c> and <c>xetHash</c>.
/// Cursors are opaque to clients (an offset, base64url): the listing of a commit never changes, so they stay valid.
/// </summary>
internal static class TreeListing
{
    /// <summary>The entries under <paramref name="dir"/> ("" = root), or null when it is not a folder of the commit.</summary>
    public static List<TreeEntry>? List(RepoCommit commit, string dir, bool recursive)
    {
        string prefix = dir.Length == 0 ? "" : dir + "/";
        var dirs = new SortedDictionary<string, List<StoredFile>>(StringComparer.Ordinal);
        var files = new List<StoredFile>();
        foreach (var f in commit.Files)
        {
            if (!f.Path.StartsWith(prefix, StringComparison.Ordinal)) continue;
            string rel = f.Path.Substring(prefix.Length);
            int slash = rel.IndexOf('/');
            if (slash < 0) { files.Add(f); }
            if (slash >= 0 && !recursive) AddTo(dirs, prefix + rel.Substring(0, slash), f);
            if (recursive)
            {
                for (int i = rel.IndexOf('/'); i >= 0; i = rel.IndexOf('/', i + 1)) AddTo(dirs, prefix + rel.Substring(0, i), f);
                if (slash >= 0) files.Add(f);
            }
        }
        if (dir.Length > 0 && files.Count == 0 && dirs.Count == 0) return null;
        var entries = dirs.Select(d => new TreeEntry("directory", d.Key, TreeOid(d.Value), null))
            .Concat(files.Select(f => new TreeEntry("file", f.Path, f.GitOid, f)))
            .OrderBy(e => e.Path, StringComparer.Ordinal)
            .ToList();
        return entries;
    }

    private static void AddTo(SortedDictionary<string, List<StoredFile>> dirs, string dir, StoredFile f)
    {
        if (!dirs.TryGetValue(dir, out var list)) dirs[dir] = list = new List<StoredFile>();
        list.Add(f);
    }

    /// <summary>A stable id of a folder's content (stands in for the git tree oid).</summary>
    private static string TreeOid(IEnumerable<StoredFile> files)
    {
        var sb = new StringBuilder();
        foreach (var f in files) sb.Append(f.Path).Append('\0').Append(f.GitOid).Append('\n');
        return Convert.ToHexString(SHA1.HashData(Encoding.UTF8.GetBytes(sb.ToString()))).ToLowerInvariant();
    }

    public static string EncodeCursor(int offset) =>
        Convert.ToBase64String(Encoding.ASCII.GetBytes("o:" + offset.ToString(CultureInfo.InvariantCulture))).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static bool TryDecodeCursor(string cursor, out int offset)
    {
        offset = 0;
        try
        {
            string b = cursor.Replace('-', '+').Replace('_', '/');
            string text = Encoding.ASCII.GetString(Convert.FromBase64String(b.PadRight(b.Length + (4 - b.Length % 4) % 4, '=')));
            return text.StartsWith("o:", StringComparison.Ordinal) &&
                   int.TryParse(text.AsSpan(2), NumberStyles.None, CultureInfo.InvariantCulture, out offset);
        }
        catch (FormatException) { return false; }
    }

    /// <summary>The page with hostile copies of its files (same metadata, paths that climb out or name devices) in front.</summary>
    public static List<TreeEntry> Hostile(List<TreeEntry> page, RepoCommit commit, HostileMetadata kind)
    {
        var victim = page.FirstOrDefault(e => e.File is not null)?.File ?? commit.Files.FirstOrDefault()
                     ?? throw new InvalidDataException("A hostile tree fault needs at least one file in the repo.");
        string[] paths = kind switch
        {
            HostileMetadata.DotDotPath => new[] { "../escaped.bin", "nested/../../escaped.bin", "..\\escaped.bin" },
            HostileMetadata.AbsolutePath => new[] { "/etc/escaped.bin", "C:\\escaped.bin", "\\\\server\\share\\escaped.bin" },
            _ => new[] { "CON", "nul.txt", "\\\\.\\PhysicalDrive0", "COM1.bin" },
        };
        return paths.Select(p => new TreeEntry("file", p, victim.GitOid, victim with { Path = p })).Concat(page).ToList();
    }

    public static byte[] ToJson(IEnumerable<TreeEntry> entries, RepoCommit commit, bool expand)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, HttpResults.JsonWriterOptions))
        {
            w.WriteStartArray();
            foreach (var e in entries)
            {
                w.WriteStartObject();
                w.WriteString("type", e.Type);
                w.WriteString("oid", e.Oid);
                w.WriteNumber("size", e.File?.Size ?? 0);
                w.WriteString("path", e.Path);
                if (e.File is { IsXet: true } f)
                {
                    w.WriteStartObject("lfs");
                    w.WriteString("oid", f.Sha256);
                    w.WriteNumber("size", f.Size);
                    w.WriteNumber("pointerSize", f.PointerSize);
                    w.WriteEndObject();
                    w.WriteString("xetHash", f.XetHash);
                }
                if (expand)
                {
                    w.WriteStartObject("lastCommit");
                    w.WriteString("id", commit.Id);
                    w.WriteString("title", commit.Title);
                    w.WriteString("date", commit.Date.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture));
                    w.WriteEndObject();
                }
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        return ms.ToArray();
    }
}
