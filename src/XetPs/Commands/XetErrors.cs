using System;
using System.IO;
using System.Management.Automation;
using System.Net.Http;

namespace XetPs.Commands;

/// <summary>
/// The module's error vocabulary: an engine exception becomes an <see cref="ErrorRecord"/> with a stable error id
/// (scripts match on FullyQualifiedErrorId = "&lt;id&gt;,XetPs.Commands.&lt;Cmdlet&gt;") and the category that fits.
/// Invariant: the record's Exception is the originating exception itself, never a wrapper, so
/// <c>catch { $_.Exception }</c> sees the engine's object. Engine exception types are recognized by name, walking
/// the base types, so a subclass maps like its parent.
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

    internal static (string Id, ErrorCategory Category) Classify(Exception exception)
    {
        for (var type = exception.GetType(); type is not null && type != typeof(object); type = type.BaseType)
        {
            switch (type.Name)
            {
                case "XetFileNotFoundException": return ("XetFileNotFound", ErrorCategory.ObjectNotFound);
                case "XetAuthenticationException": return ("XetAuthenticationFailed", ErrorCategory.PermissionDenied);
                case "XetHashMismatchException": return ("XetHashMismatch", ErrorCategory.InvalidResult);
                case "XetDestinationExistsException": return ("XetDestinationExists", ErrorCategory.ResourceExists);
                case "XetInsufficientDiskSpaceException": return ("XetInsufficientDiskSpace", ErrorCategory.ResourceUnavailable);
                case "UnsafeRepoPathException": return (UnsafePath, ErrorCategory.SecurityError);
                case "UnsafeWorkPathException": return (UnsafePath, ErrorCategory.SecurityError);
                case "XetStallException": return ("XetDownloadStalled", ErrorCategory.OperationTimeout);
                case "XetOfflineException": return ("XetOffline", ErrorCategory.ResourceUnavailable);
                case "XetProtocolException": return ("XetProtocolError", ErrorCategory.InvalidData);
                case "XorbFormatException": return ("XetProtocolError", ErrorCategory.InvalidData);
            }
        }
        return exception switch
        {
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
}
