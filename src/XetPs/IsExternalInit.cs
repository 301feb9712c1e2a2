#if !NET5_0_OR_GREATER
namespace System.Runtime.CompilerServices;

/// <summary>Lets the netstandard2.0 build use records and init-only setters (the compiler needs this marker type).</summary>
internal static class IsExternalInit { }
#endif
