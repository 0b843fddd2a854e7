namespace Broker.Cli.Commands;

/// <summary>
/// The file through which a development cluster (<c>broker dev-kafka</c>, <c>broker up</c>) tells the other verbs
/// its bootstrap address (<see cref="KafkaCliOptions.DevBootstrapFile"/>). The file names the process that wrote it,
/// so readers can tell a stale file (a process killed with SIGKILL) from a live cluster; it is removed on SIGTERM,
/// SIGINT, normal exit and <see cref="Dispose"/>, and only while it still holds what this process wrote.
/// </summary>
internal sealed class DevClusterFile : IDisposable
{
    private readonly string _file = KafkaCliOptions.DevBootstrapFile;
    private readonly string _content;
    private readonly EventHandler _onExit;

    private DevClusterFile(string bootstrap)
    {
        _content = KafkaCliOptions.DevBootstrapContent(Environment.ProcessId, bootstrap);
        File.WriteAllText(_file, _content);
        _onExit = (_, _) => Remove();
        AppDomain.CurrentDomain.ProcessExit += _onExit;
    }

    /// <summary>Writes the file for <paramref name="bootstrap"/>.</summary>
    public static DevClusterFile Publish(string bootstrap) => new(bootstrap);

    /// <summary>Where the file is.</summary>
    public string Path => _file;

    /// <summary>Removes the file if it is still this process's (safe to call from a signal handler, more than once).</summary>
    public void Remove()
    {
        try
        {
            if (File.Exists(_file) && File.ReadAllText(_file) == _content) File.Delete(_file);
        }
        catch (IOException)
        {
            // Another dev cluster replaced it, or the folder is gone: nothing of ours to remove.
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Remove();
        AppDomain.CurrentDomain.ProcessExit -= _onExit;
    }
}
