using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace Broker.StepHost;

/// <summary>
/// The operators' HTTP endpoints of a step service, on Kestrel inside the service's generic host:
/// <list type="bullet">
/// <item><c>/metrics</c>: Prometheus text, OpenTelemetry's exporter over the host's <see cref="StepMetrics"/> and
/// .NET's own <c>System.Runtime</c> meter (GC, CPU, thread pool);</item>
/// <item><c>/health/live</c>: 200 while the loop makes progress, 503 once it has failed or shown none for
/// <see cref="StepHostOptions.LivenessTimeoutSeconds"/> (a probe that restarts the pod);</item>
/// <item><c>/health/ready</c>: 200 once the start-up work is done (cluster checked, replay guard read) and at least
/// one partition is assigned, 503 before, while unassigned, and after stopping.</item>
/// </list>
/// Both health bodies are the health document (<see cref="HealthReporter.Document"/>).
/// </summary>
internal static class OperatorEndpoints
{
    /// <summary>Adds Kestrel on <paramref name="url"/> and the endpoints to a generic host.</summary>
    public static void Configure(IWebHostBuilder web, IStepService service, StepHostOptions options, string url)
    {
        web.UseKestrel(k => k.AddServerHeader = false)
            .UseUrls(url)
            .ConfigureServices(services =>
            {
                services.AddRouting();
                services.AddOpenTelemetry()
                    .ConfigureResource(r => r.AddService("broker-" + service.Step))
                    .WithMetrics(metrics => metrics
                        .AddMeter(StepMetrics.MeterName, "System.Runtime")
                        // Only this host's meter: others of the same name in the process are other hosts'.
                        .AddView(i => i.Meter.Name == StepMetrics.MeterName && i.Meter != service.Metrics.Meter ? MetricStreamConfiguration.Drop : null)
                        // A scrape reads the counters as they are now: no cached response.
                        .AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0));
            })
            .Configure(app =>
            {
                app.UseRouting();
                app.UseEndpoints(endpoints =>
                {
                    endpoints.MapPrometheusScrapingEndpoint("/metrics");
                    endpoints.MapGet("/health/live", context => Probe(context, service, IsAlive(service, options)));
                    endpoints.MapGet("/health/ready", context => Probe(context, service, service.State == StepServiceState.Running));
                });
            });
    }

    /// <summary>The addresses Kestrel listens on (the real port when 0 was asked for).</summary>
    public static IReadOnlyCollection<string> Addresses(IServiceProvider services) =>
        services.GetService<IServer>()?.Features.Get<IServerAddressesFeature>()?.Addresses.ToList() ?? [];

    /// <summary>Alive: not failed, and progress within the liveness timeout (start-up has a timeout of its own).</summary>
    internal static bool IsAlive(IStepService service, StepHostOptions options) => service.State switch
    {
        StepServiceState.Failed => false,
        StepServiceState.Starting or StepServiceState.Stopped => true,
        _ => Environment.TickCount64 - service.LastProgress < options.LivenessTimeoutSeconds * 1000L,
    };

    /// <summary>The health status word for a state (health file and probe bodies).</summary>
    internal static string StatusWord(StepServiceState state) => state.ToString().ToLowerInvariant();

    private static Task Probe(HttpContext context, IStepService service, bool ok)
    {
        context.Response.StatusCode = ok ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-store";
        byte[] body = HealthReporter.Document(StatusWord(service.State), service.Counters, service.AssignedPartitions);
        return context.Response.Body.WriteAsync(body).AsTask();
    }
}
