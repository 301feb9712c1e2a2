namespace XetPs.Reconstruction;

/// <summary>
/// The log levels the PowerShell module sees (Verbose, Debug, Warning streams). Mirrors
/// Microsoft.Extensions.Logging.LogLevel so the module needs no reference to Logging.Abstractions.
/// </summary>
public enum XetLogLevel
{
    Trace = 0,
    Debug = 1,
    Information = 2,
    Warning = 3,
    Error = 4,
    Critical = 5,
}
