using System;
using System.Management.Automation;
using System.Security;
using XetPs.Reconstruction;

namespace XetPs.Commands;

/// <summary>
/// What both cmdlets take to reach the Hub, the way Invoke-WebRequest and Invoke-RestMethod share theirs: the token
/// and the proxy settings, and how they become the engine's session settings (<see cref="SessionSettings"/>). The
/// endpoint stays on each cmdlet: Save-XetFile binds it from the entries piped in, Get-XetFileList does not.
/// </summary>
public abstract class HubCmdlet : PSCmdlet
{
    [Parameter]
    public SecureString? Token { get; set; }

    /// <summary>
    /// An HTTP proxy for every request (http:// or https://, no credentials in the URL). Default: HTTPS_PROXY,
    /// HTTP_PROXY, ALL_PROXY and NO_PROXY, then the system's settings.
    /// </summary>
    [Parameter]
    [ValidateNotNull]
    public Uri? Proxy { get; set; }

    /// <summary>The account the proxy given with -Proxy asks for.</summary>
    [Parameter]
    [Credential]
    [ValidateNotNull]
    public PSCredential? ProxyCredential { get; set; }

    /// <summary>Connect directly, ignoring HTTPS_PROXY and the system's proxy settings.</summary>
    [Parameter]
    public SwitchParameter NoProxy { get; set; }

    /// <summary>
    /// Send nothing to the Hub and answer from what is on disk (the Hugging Face cache, or the destination folder), as
    /// HF_HUB_OFFLINE=1 does, which also turns it on.
    /// </summary>
    [Parameter]
    public SwitchParameter Offline { get; set; }

    /// <summary>The session settings for <paramref name="endpoint"/> (null: HF_ENDPOINT or the default Hub), validated.</summary>
    protected XetSessionOptions ResolveSettings(string? endpoint)
    {
        var options = SessionSettings.Resolve(endpoint, Token, Environment.GetEnvironmentVariables(), Proxy, ProxyCredential, NoProxy);
        if (Offline) options.Offline = true;
        return options;
    }
}
