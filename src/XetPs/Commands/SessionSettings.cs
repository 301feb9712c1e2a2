using System;
using System.Collections;
using System.Management.Automation;
using System.Net;
using System.Security;
using XetPs.Reconstruction;

namespace XetPs.Commands;

/// <summary>
/// Turns cmdlet parameters and the environment into the engine's <see cref="XetSessionOptions"/>: a parameter wins
/// over the environment, which wins over the defaults. The environment chain itself (HF_ENDPOINT; HF_TOKEN, then the
/// token file at HF_TOKEN_PATH, $HF_HOME/token or ~/.cache/huggingface/token; the HF_XET_* knobs) is the engine's
/// <see cref="XetSessionOptions.FromEnvironment"/>, so the module and the engine never disagree about it.
/// Invariant: nothing here touches the network, so bad settings fail before any request; the token never appears
/// in a message.
/// </summary>
internal static class SessionSettings
{
    public const string DefaultEndpoint = "https://huggingface.co";

    /// <summary>
    /// The settings for one session. <paramref name="proxy"/> null and <paramref name="noProxy"/> off leave the
    /// platform's proxy (HTTPS_PROXY and the like, then the system's), as Invoke-WebRequest does. Validated here, so a
    /// bad combination is a parameter error before any request.
    /// </summary>
    public static XetSessionOptions Resolve(string? endpoint, SecureString? token, IDictionary environment,
        Uri? proxy = null, PSCredential? proxyCredential = null, bool noProxy = false)
    {
        var options = XetSessionOptions.FromEnvironment(environment);
        if (endpoint is not null) options.Endpoint = ParseEndpoint(endpoint);
        if (token is not null && token.Length > 0) options.HubToken = new NetworkCredential(string.Empty, token).Password;
        options.Proxy = proxy;
        options.ProxyCredential = proxyCredential?.GetNetworkCredential();
        options.NoProxy = noProxy;
        options.Validate();
        return options;
    }

    public static Uri ParseEndpoint(string endpoint)
    {
        var text = endpoint.Trim();
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            throw new ArgumentException($"-Endpoint '{text}' is not an absolute http:// or https:// URL.", nameof(endpoint));
        if (!string.IsNullOrEmpty(uri.UserInfo))
            throw new ArgumentException("-Endpoint must not carry credentials in the URL; use -Token or HF_TOKEN.", nameof(endpoint));
        return uri;
    }
}
