namespace XetPs.Format;

/// <summary>Placeholder replaced by the format core (issue 2).</summary>
internal static class FormatAssemblyMarker { }
