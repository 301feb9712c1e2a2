namespace XetPs.Commands;

internal static class CommandsMarker { }
