using System.Net;
using System.Net.Sockets;

namespace XetPs.Tests;

/// <summary>Loopback ports for specifications that need one nobody listens on, or one to listen on later.</summary>
internal static class LoopbackPort
{
    /// <summary>A port the system just handed out and released: free unless another process takes it in between.</summary>
    public static int Unused()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }
}
