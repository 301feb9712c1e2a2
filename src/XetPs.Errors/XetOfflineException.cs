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
}
