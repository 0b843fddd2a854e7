using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Broker.IntegrationTests;

/// <summary>
/// A Confluent-compatible schema registry over HTTP, in the test process, serving Rubin's real schema files (one
/// folder per version, as lsst/alert_packet ships them): <c>GET /schemas/ids/{major*100+minor}</c> answers the
/// version's <c>alert</c> record with the other files of its folder as references, and
/// <c>GET /subjects/{full name}/versions/1</c> answers each of those, with its own references. It can be stopped
/// and started again on the same port, which is how the tests make the registry go away mid-stream.
/// </summary>
internal sealed class SchemaRegistryServer : IDisposable
{
    private readonly Dictionary<string, string> _responses = new(StringComparer.Ordinal);
    private HttpListener? _listener;
    private Task? _loop;
    private int _requests;

    /// <summary>Loads every version folder under <paramref name="schemaRoot"/>; call <see cref="Start"/> to serve.</summary>
    public SchemaRegistryServer(string schemaRoot)
    {
        Port = FreePort();
        foreach (var dir in Directory.GetDirectories(schemaRoot).Order(StringComparer.Ordinal))
        {
            var files = Directory.GetFiles(dir, "*.avsc");
            if (files.Length == 0) continue;
            var texts = files.ToDictionary(FullName, File.ReadAllText, StringComparer.Ordinal);
            string alert = texts.Keys.Single(n => n.EndsWith(".alert", StringComparison.Ordinal));
            var version = Path.GetFileName(dir).Split('.');
            int id = int.Parse(version[0], System.Globalization.CultureInfo.InvariantCulture) * 100 + int.Parse(version[1], System.Globalization.CultureInfo.InvariantCulture);
            foreach (var (name, text) in texts)
            {
                string body = Body(name, text, References(name, text, texts.Keys), id);
                _responses[$"/subjects/{name}/versions/1"] = body;
                if (name == alert) _responses[$"/schemas/ids/{id}"] = body;
            }
        }
    }

    /// <summary>The port it listens on, kept across restarts.</summary>
    public int Port { get; }

    /// <summary>The registry's URL.</summary>
    public string Url => $"http://127.0.0.1:{Port}";

    /// <summary>Requests answered so far.</summary>
    public int Requests => Volatile.Read(ref _requests);

    /// <summary>The schema ids it serves.</summary>
    public IEnumerable<int> Ids => _responses.Keys.Where(k => k.StartsWith("/schemas/ids/", StringComparison.Ordinal)).Select(k => int.Parse(k["/schemas/ids/".Length..], System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>Starts answering.</summary>
    public void Start()
    {
        var listener = new HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        listener.Start();
        _listener = listener;
        _loop = Task.Run(() => Serve(listener));
    }

    /// <summary>Goes away: the port refuses connections until <see cref="Start"/>.</summary>
    public void Stop()
    {
        var listener = Interlocked.Exchange(ref _listener, null);
        if (listener is null) return;
        listener.Abort();
        listener.Close();
        _loop?.Wait(TimeSpan.FromSeconds(5));
    }

    public void Dispose() => Stop();

    private async Task Serve(HttpListener listener)
    {
        while (listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            string path = Uri.UnescapeDataString(context.Request.Url!.AbsolutePath);
            bool found = _responses.TryGetValue(path, out var body);
            body ??= """{"error_code":40403,"message":"Schema not found"}""";
            context.Response.StatusCode = found ? 200 : 404;
            context.Response.ContentType = "application/vnd.schemaregistry.v1+json";
            var bytes = Encoding.UTF8.GetBytes(body);
            await context.Response.OutputStream.WriteAsync(bytes).ConfigureAwait(false);
            context.Response.Close();
            Interlocked.Increment(ref _requests);
        }
    }

    private static string FullName(string file)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(file));
        var root = doc.RootElement;
        string name = root.GetProperty("name").GetString()!;
        return root.TryGetProperty("namespace", out var ns) ? ns.GetString() + "." + name : name;
    }

    /// <summary>The other schemas of the folder that this one names (by full name, in quotes).</summary>
    private static List<string> References(string self, string text, IEnumerable<string> names) =>
        names.Where(n => n != self && text.Contains('"' + n + '"', StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();

    private static string Body(string subject, string schema, List<string> references, int id) => JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["subject"] = subject,
        ["version"] = 1,
        ["id"] = id,
        ["schemaType"] = "AVRO",
        ["schema"] = schema,
        ["references"] = references.Select(r => new Dictionary<string, object> { ["name"] = r, ["subject"] = r, ["version"] = 1 }).ToList(),
    });

    private static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }
}
