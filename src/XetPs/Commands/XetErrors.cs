using System;
using System.IO;
using System.Management.Automation;
using System.Net.Http;

namespace XetPs.Commands;

/// <summary>
/// The module's error vocabulary: an engine exception becomes an <see cref="ErrorRecord"/> with a stable error id
/// (scripts match on FullyQualifiedErrorId = "&lt;id&gt;,XetPs.Commands.&lt;Cmdlet&gt;") and the category that fits.
/// Invariant: the record's Exception is the originating exception itself, never a wrapper, so
/// <c>catch { $_.Exception }</c> sees the engine's object, and <c>catch [XetPs.XetHashMismatchException]</c> catches it.
/// </summary>
internal static class XetErrors
{
    public const string InvalidArgument = "XetInvalidArgument";
    public const string UnsafePath = "XetUnsafePath";

    public static ErrorRecord For(Exception exception, object? target)
    {
        var (id, category) = Classify(exception);
        var record = new ErrorRecord(exception, id, category, target);
        // A transport error after retries ("Connection refused (host:port)") says neither which file nor that it was
        // retried: the shown message (ErrorDetails, what pwsh prints and "$_" gives) adds both; Exception stays the
        // engine's own object with its own message.
        if (XetPs.Hub.XetHttpTransport.DescribeGivingUp(exception) is { } givingUp)
            record.ErrorDetails = new ErrorDetails($"{target}: {exception.Message.TrimEnd('.')}; {givingUp}.");
        return record;
    }

    public static ErrorRecord InvalidParameter(Exception exception, object? target) =>
        new(exception, InvalidArgument, ErrorCategory.InvalidArgument, target);

    /// <summary>
    /// The error id and category of <paramref name="exception"/>. Every exception type of XetPs.Errors has its own arm
    /// (XetErrorIdTests holds the table and fails for a type without one); a subclass maps like its parent, and the
    /// compiler rejects an arm that an earlier one already covers.
    /// </summary>
    internal static (string Id, ErrorCategory Category) Classify(Exception exception) => exception switch
    {
        XetFileNotFoundException => ("XetFileNotFound", ErrorCategory.ObjectNotFound),
        XetAuthenticationException => ("XetAuthenticationFailed", ErrorCategory.PermissionDenied),
        XetHashMismatchException => ("XetHashMismatch", ErrorCategory.InvalidResult),
        XetDestinationExistsException => ("XetDestinationExists", ErrorCategory.ResourceExists),
        XetInsufficientDiskSpaceException => ("XetInsufficientDiskSpace", ErrorCategory.ResourceUnavailable),
        UnsafeRepoPathException => (UnsafePath, ErrorCategory.SecurityError),
        UnsafeWorkPathException => (UnsafePath, ErrorCategory.SecurityError),
        XetStallException => ("XetDownloadStalled", ErrorCategory.OperationTimeout),
        XetOfflineException => ("XetOffline", ErrorCategory.ResourceUnavailable),
        XetProtocolException => ("XetProtocolError", ErrorCategory.InvalidData),
        XorbFormatException => ("XetProtocolError", ErrorCategory.InvalidData),
        // Transient failures the retries could not get past: the server stayed silent, or refused fresh URLs too.
        XetReadTimeoutException => ("XetDownloadFailed", ErrorCategory.OperationTimeout),
        XetUrlExpiredException => ("XetDownloadFailed", ErrorCategory.PermissionDenied),
        HttpRequestException when XetPs.Hub.XetHttpTransport.StatusOf(exception) == 407 => ("XetProxyAuthenticationFailed", ErrorCategory.PermissionDenied),
        HttpRequestException => ("XetDownloadFailed", ErrorCategory.ConnectionError),
        TimeoutException => ("XetDownloadFailed", ErrorCategory.OperationTimeout),
        // Not a stop (those never become errors): a request that gave up, e.g. an HTTP timeout.
        OperationCanceledException => ("XetDownloadFailed", ErrorCategory.OperationTimeout),
        UnauthorizedAccessException => ("XetDownloadFailed", ErrorCategory.PermissionDenied),
        IOException => ("XetDownloadFailed", ErrorCategory.WriteError),
        ArgumentException => (InvalidArgument, ErrorCategory.InvalidArgument),
        _ => ("XetDownloadFailed", ErrorCategory.NotSpecified),
    };
}
