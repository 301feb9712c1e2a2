using System;
using System.IO;
using System.Text.Json;

namespace XetPs.Hub;

/// <summary>
/// Parses small JSON bodies (tree pages, tokens, revision info) and tells a document cut short (a transient
/// <see cref="IOException"/>, retried) from one that is malformed (<see cref="XetProtocolException"/>, not retried).
/// </summary>
internal static class JsonBody
{
    public static JsonDocument Parse(ArraySegment<byte> body, string what)
    {
        try
        {
            return JsonDocument.Parse(body.AsMemory());
        }
        catch (JsonException ex)
        {
            if (IsCutShort(body)) throw new IOException($"The JSON answer from {what} ended early (truncated response).", ex);
            throw new XetProtocolException($"The answer from {what} is not valid JSON: {ex.Message}", ex);
        }
    }

    /// <summary>True when the bytes are a valid prefix of a JSON document but not a whole one.</summary>
    private static bool IsCutShort(ReadOnlySpan<byte> body)
    {
        var reader = new Utf8JsonReader(body, isFinalBlock: false, state: default);
        try
        {
            while (reader.Read())
            {
                if (reader.CurrentDepth == 0 && reader.TokenType is JsonTokenType.EndObject or JsonTokenType.EndArray) return false;
            }
            // The reader ran out of data inside the document: it was cut short.
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
