using System;

namespace XetPs;

/// <summary>
/// HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE) is set, so no request leaves the machine: the first one that would is
/// refused with this, at once and without retries, instead of failing slowly against a network the user said is not
/// there. Not transient.
/// </summary>
public sealed class XetOfflineException : InvalidOperationException
{
    public XetOfflineException(string what)
        : base($"HF_HUB_OFFLINE is set, so {what} was not sent: XetPs needs the Hub to list or download files. Unset HF_HUB_OFFLINE (or set it to 0) to go online.")
    {
    }

    /// <summary>
    /// A file asked for offline that what is on disk (the Hugging Face cache, a folder) cannot answer:
    /// <paramref name="reason"/> says why, naming the file; <see cref="Path"/> is its repo path.
    /// </summary>
    public XetOfflineException(string path, string reason)
        : base($"Offline (HF_HUB_OFFLINE or -Offline), nothing was sent to the Hub: {reason}. Go online to download it.")
    {
        Path = path;
    }

    /// <summary>The repo path of the file that could not be answered offline, when the failure is about one file.</summary>
    public string? Path { get; }
}
