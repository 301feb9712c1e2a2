using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace XetPs.Tests.Hub;

/// <summary>
/// A gateway on loopback that serves the emulator's Hub under one path of its origin,
/// <c>http://127.0.0.1:PORT/hf/</c>, as a company mirror mounted beside other services: a request under <c>/hf/</c>
/// goes to the emulator without the prefix; any other path of the origin belongs to someone else and is answered 404.
/// Like a gateway that rewrites the host of the upstream's links but not their path, the emulator's origin in
/// <c>Link</c> and <c>Location</c> headers becomes the gateway's own origin, without <c>/hf</c>. Every request it
/// receives is recorded with whether it carried an Authorization header.
/// </summary>
internal sealed class PrefixMirror : IAsyncDisposable
{
    public const string Prefix = "/hf/";

    private readonly WebApplication _app;
    private readonly Uri _upstream;
    private readonly HttpClient _client = new(new SocketsHttpHandler { AllowAutoRedirect = false, UseProxy = false, AutomaticDecompression = DecompressionMethods.None });

    /// <summary>One request the gateway received: its raw path and query, and whether it carried Authorization.</summary>
    public sealed record Seen(string Target, bool HadAuthorization);

    private PrefixMirror(WebApplication app, Uri upstream)
    {
        _app = app;
        _upstream = upstream;
    }

    public static async Task<PrefixMirror> StartAsync(Uri upstream)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var mirror = new PrefixMirror(app, upstream);
        app.Run(mirror.ServeAsync);
        await app.StartAsync();
        mirror.Origin = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/') + "/");
        return mirror;
    }

    /// <summary>The gateway's origin, <c>http://127.0.0.1:PORT/</c>.</summary>
    public Uri Origin { get; private set; } = null!;

    /// <summary>The Hub endpoint a client is given: the origin and <see cref="Prefix"/>.</summary>
    public Uri Endpoint => new(Origin, Prefix);

    public ConcurrentQueue<Seen> Requests { get; } = new();

    private async Task ServeAsync(HttpContext context)
    {
        var target = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? "/";
        Requests.Enqueue(new Seen(target, context.Request.Headers.Authorization.Count > 0));
        if (!target.StartsWith(Prefix, StringComparison.Ordinal))
        {
            context.Response.StatusCode = 404; // another service of the same origin
            return;
        }
        using var request = new HttpRequestMessage(new HttpMethod(context.Request.Method), new Uri(_upstream, target.Substring(Prefix.Length)));
        foreach (var header in context.Request.Headers)
        {
            if (header.Key is "Host" or "Connection" or "Content-Length") continue;
            request.Headers.TryAddWithoutValidation(header.Key, header.Value.ToArray());
        }
        using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
        context.Response.StatusCode = (int)response.StatusCode;
        var upstreamOrigin = _upstream.GetLeftPart(UriPartial.Authority);
        var origin = Origin.GetLeftPart(UriPartial.Authority);
        foreach (var header in response.Headers.Concat(response.Content.Headers))
        {
            if (header.Key is "Transfer-Encoding" or "Connection") continue;
            context.Response.Headers[header.Key] = header.Value.Select(v => v.Replace(upstreamOrigin, origin, StringComparison.Ordinal)).ToArray();
        }
        await response.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _client.Dispose();
    }
}
