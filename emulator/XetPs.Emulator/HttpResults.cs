using System;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Http;

namespace XetPs.Emulator;

/// <summary>How the emulator writes bodies: always with a Content-Length (so truncation faults are visible as a
/// short body), JSON errors shaped like the Hub's (<c>{"error": "..."}</c>), and the enormous-JSON fault.</summary>
internal static class HttpResults
{
    /// <summary>Padding size of the enormous-JSON fault.</summary>
    public const int EnormousPadding = 48 << 20;

    /// <summary>JSON as the Hub writes it: '&amp;' and '+' in URLs stay literal (the default encoder would escape them).</summary>
    public static readonly JsonWriterOptions JsonWriterOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Task WriteErrorAsync(HttpContext context, int status, string message, string? errorCode = null)
    {
        context.Response.StatusCode = status;
        if (errorCode is not null) context.Response.Headers["X-Error-Code"] = errorCode;
        // Header values must be ASCII; the JSON body keeps the exact text.
        var ascii = new StringBuilder(message.Length);
        foreach (char ch in message) ascii.Append(ch is >= ' ' and <= '~' ? ch : '?');
        context.Response.Headers["X-Error-Message"] = ascii.ToString();
        byte[] body = JsonSerializer.SerializeToUtf8Bytes(new { error = message });
        return WriteBytesAsync(context, body, "application/json; charset=utf-8");
    }

    /// <summary>Largest body the emulator compresses in memory when the client offers gzip.</summary>
    public const int MaxGzipBody = 16 << 20;

    /// <summary>
    /// Whether the request offers gzip (Accept-Encoding lists gzip or * with a q above 0). Like most servers and CDNs,
    /// the emulator then prefers gzip to identity, even when identity is listed too.
    /// </summary>
    public static bool AcceptsGzip(HttpContext context)
    {
        foreach (var header in context.Request.Headers.AcceptEncoding)
        {
            foreach (var item in (header ?? "").Split(','))
            {
                var parts = item.Split(';');
                var coding = parts[0].Trim();
                if (!coding.Equals("gzip", StringComparison.OrdinalIgnoreCase) && coding != "*") continue;
                var q = parts.Skip(1).Select(p => p.Trim()).FirstOrDefault(p => p.StartsWith("q=", StringComparison.OrdinalIgnoreCase));
                if (q is null || !double.TryParse(q.AsSpan(2), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var weight) || weight > 0)
                    return true;
            }
        }
        return false;
    }

    /// <summary>The gzip encoding of <paramref name="body"/>.</summary>
    public static byte[] Gzip(ReadOnlySpan<byte> body)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true)) gzip.Write(body);
        return output.ToArray();
    }

    /// <summary>Writes <paramref name="body"/>, gzip-encoded when the client offers gzip (JSON documents).</summary>
    public static Task WriteNegotiatedAsync(HttpContext context, byte[] body, string contentType)
    {
        if (!AcceptsGzip(context) || body.Length > MaxGzipBody) return WriteBytesAsync(context, body, contentType);
        context.Response.Headers.ContentEncoding = "gzip";
        context.Response.Headers.Vary = "Accept-Encoding";
        return WriteBytesAsync(context, Gzip(body), contentType);
    }

    /// <summary>A redirect to <paramref name="location"/> (a path, as the Hub writes it) with a short text body.</summary>
    public static Task WriteRedirectAsync(HttpContext context, int status, string location)
    {
        context.Response.StatusCode = status;
        context.Response.Headers.Location = location;
        return WriteBytesAsync(context, Encoding.ASCII.GetBytes($"Temporary Redirect. Redirecting to {location}"), "text/plain; charset=utf-8");
    }

    public static async Task WriteBytesAsync(HttpContext context, ReadOnlyMemory<byte> body, string contentType)
    {
        context.Response.ContentType = contentType;
        context.Response.ContentLength = body.Length;
        if (HttpMethods.IsHead(context.Request.Method)) return;
        await context.Response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>
    /// Writes a JSON document (an object or an array); with <paramref name="enormous"/>, a first member or element of
    /// <see cref="EnormousPadding"/> bytes is spliced in, streamed, so the body is huge but the JSON stays valid.
    /// </summary>
    public static async Task WriteJsonAsync(HttpContext context, byte[] json, string contentType, bool enormous)
    {
        if (!enormous)
        {
            await WriteNegotiatedAsync(context, json, contentType).ConfigureAwait(false);
            return;
        }
        bool isArray = json[0] == (byte)'[';
        byte[] head = Encoding.ASCII.GetBytes(isArray ? "[{\"type\":\"file\",\"path\":\"padding.bin\",\"size\":1,\"oid\":\"" : "{\"padding\":\"");
        bool empty = json.Length == 2;
        byte[] tail = Encoding.ASCII.GetBytes(isArray ? (empty ? "\"}" : "\"},") : (empty ? "\"" : "\","));
        context.Response.ContentType = contentType;
        context.Response.ContentLength = head.Length + (long)EnormousPadding + tail.Length + json.Length - 1;
        if (HttpMethods.IsHead(context.Request.Method)) return;
        var body = context.Response.Body;
        await body.WriteAsync(head, context.RequestAborted).ConfigureAwait(false);
        byte[] fill = new byte[1 << 16];
        fill.AsSpan().Fill((byte)'a');
        for (int left = EnormousPadding; left > 0; left -= fill.Length)
            await body.WriteAsync(fill.AsMemory(0, Math.Min(left, fill.Length)), context.RequestAborted).ConfigureAwait(false);
        await body.WriteAsync(tail, context.RequestAborted).ConfigureAwait(false);
        await body.WriteAsync(json.AsMemory(1), context.RequestAborted).ConfigureAwait(false);
    }
}
