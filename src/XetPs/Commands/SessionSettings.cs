using System;
using System.Collections;
using System.IO;
using System.Net;
using System.Security;
using XetPs.Reconstruction;

namespace XetPs.Commands;

/// <summary>
/// Turns cmdlet parameters and the environment into the engine's <see cref="XetSessionOptions"/>, in the order
/// huggingface_hub users expect: a parameter wins; then HF_ENDPOINT / HF_TOKEN; then the token file at HF_TOKEN_PATH,
/// else $HF_HOME/token, else ~/.cache/huggingface/token; then the defaults (https://huggingface.co, anonymous).
/// The engine's knobs (buffer, concurrency, verification, retries) come from HF_XET_* via
/// <see cref="XetSessionOptions.FromEnvironment"/>. Invariant: nothing here touches the network, so bad settings
/// fail before any request; the token is never part of a message.
/// </summary>
internal static class SessionSettings
{
    public const string DefaultEndpoint = "https://huggingface.co";

    public static XetSessionOptions Resolve(string? endpoint, SecureString? token, IDictionary environment,
                                            string? homeDirectory)
    {
        var options = XetSessionOptions.FromEnvironment(environment);
        options.Endpoint = ResolveEndpoint(endpoint, environment);
        options.HubToken = ResolveToken(token, environment, homeDirectory);
        return options;
    }

    public static Uri ResolveEndpoint(string? endpoint, IDictionary environment)
    {
        var text = !string.IsNullOrWhiteSpace(endpoint) ? endpoint!.Trim()
            : Read(environment, "HF_ENDPOINT") ?? DefaultEndpoint;
        var source = !string.IsNullOrWhiteSpace(endpoint) ? "-Endpoint" : Read(environment, "HF_ENDPOINT") is null ? "the default" : "HF_ENDPOINT";
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            throw new ArgumentException($"The Hub endpoint '{text}' (from {source}) is not an absolute http:// or https:// URL.", nameof(endpoint));
        if (!string.IsNullOrEmpty(uri.UserInfo))
            throw new ArgumentException($"The Hub endpoint from {source} must not carry credentials in the URL; use -Token or HF_TOKEN.", nameof(endpoint));
        return uri;
    }

    public static string? ResolveToken(SecureString? token, IDictionary environment, string? homeDirectory)
    {
        if (token is not null && token.Length > 0) return new NetworkCredential(string.Empty, token).Password;
        var fromVariable = Read(environment, "HF_TOKEN");
        if (fromVariable is not null) return fromVariable;
        var tokenPath = Read(environment, "HF_TOKEN_PATH");
        if (tokenPath is null)
        {
            var hfHome = Read(environment, "HF_HOME");
            if (hfHome is not null) tokenPath = Path.Combine(hfHome, "token");
            else if (!string.IsNullOrEmpty(homeDirectory)) tokenPath = Path.Combine(homeDirectory!, ".cache", "huggingface", "token");
        }
        if (tokenPath is null || !File.Exists(tokenPath)) return null;
        try
        {
            var text = File.ReadAllText(tokenPath).Trim();
            return text.Length == 0 ? null : text;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"The Hub token file '{tokenPath}' exists but cannot be read: {e.Message}", e);
        }
    }

    private static string? Read(IDictionary environment, string name)
    {
        // Environment keys are case-sensitive on Linux and not on Windows; the names are upper case everywhere.
        var value = environment.Contains(name) ? environment[name] as string : null;
        return string.IsNullOrWhiteSpace(value) ? null : value!.Trim();
    }
}
