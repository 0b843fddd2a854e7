using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Npgsql;
using NpgsqlTypes;

namespace Broker.TestSupport;

/// <summary>
/// A private PostgreSQL 15 cluster with the Q3C extension (Koposov and Bartunov 2006), the oracle for crossmatch
/// tests (issue 11): <c>q3c_join</c> and <c>q3c_dist</c> give the pairs and separations Broker's crossmatch must
/// reproduce. Never touches the system cluster: <see cref="Start"/> runs <c>initdb</c> into a fresh temporary
/// folder, starts <c>postgres</c> listening only on a Unix socket in that folder (no TCP), and
/// <see cref="Dispose"/> stops it and deletes the folder.
/// </summary>
/// <remarks>
/// <c>initdb</c> and <c>postgres</c> refuse to run as root. As root (containers, CI) they run as the Debian
/// <c>postgres</c> system user through <c>runuser -u postgres --</c>, in a folder chowned to it; the test process
/// still connects as the database superuser <c>postgres</c> over the socket with <c>trust</c> authentication,
/// which is safe because only the socket in a private folder listens. As any other user they run as that user.
/// Durability is switched off (<c>fsync</c>, <c>synchronous_commit</c>, <c>full_page_writes</c>): the cluster is
/// thrown away after the test.
/// </remarks>
public sealed class Q3cDatabase : IDisposable
{
    /// <summary>Where Debian's <c>postgresql-15</c> puts the server binaries.</summary>
    public const string BinDirectory = "/usr/lib/postgresql/15/bin";

    /// <summary>The control file Debian's <c>postgresql-15-q3c</c> installs.</summary>
    public const string Q3cControlFile = "/usr/share/postgresql/15/extension/q3c.control";

    private const string SystemUser = "postgres";

    private static readonly Lazy<string?> Unavailable = new(FindWhyUnavailable);

    private readonly string _root;
    private readonly string _data;
    private readonly bool _asSystemUser;
    private readonly bool _keep;
    private bool _stopped;

    private Q3cDatabase(string root, int port, bool asSystemUser, bool keep)
    {
        _root = root;
        _keep = keep;
        _data = Path.Combine(root, "data");
        Port = port;
        _asSystemUser = asSystemUser;
        ConnectionString = new NpgsqlConnectionStringBuilder
        {
            Host = root,
            Port = port,
            Username = SystemUser,
            Database = "postgres",
            Pooling = false,
            CommandTimeout = 0,
        }.ConnectionString;
    }

    /// <summary>The cluster's folder: <c>data/</c> (the cluster), the socket, <c>server.log</c>.</summary>
    public string Folder => _root;

    /// <summary>The port, which names the socket file (<c>.s.PGSQL.PORT</c>); nothing listens on TCP.</summary>
    public int Port { get; }

    /// <summary>Npgsql connection string for the cluster's <c>postgres</c> database.</summary>
    public string ConnectionString { get; }

    /// <summary>Null when a cluster can be started here; otherwise why not, fit for a skip message. Cached.</summary>
    public static string? WhyUnavailable() => Unavailable.Value;

    /// <summary>Creates, starts and prepares a cluster (<c>create extension q3c</c>). Takes a few seconds.</summary>
    /// <exception cref="InvalidOperationException">PostgreSQL or Q3C is not installed (<see cref="WhyUnavailable"/>) or the server did not start; the message carries its log.</exception>
    public static Q3cDatabase Start()
    {
        if (WhyUnavailable() is { } why) throw new InvalidOperationException(why);
        return StartIn(Directory.CreateTempSubdirectory("broker-q3c-").FullName, keep: false);
    }

    /// <summary>
    /// Starts the cluster kept in <paramref name="folder"/>, creating it there on first use as <see cref="Start"/>
    /// does; <see cref="Dispose"/> stops it and keeps the folder, tables and all. For benchmarks that load a large
    /// catalogue once and reuse it across runs. The folder must be reachable by the <c>postgres</c> user when run as root.
    /// </summary>
    /// <exception cref="InvalidOperationException">As <see cref="Start"/>.</exception>
    public static Q3cDatabase StartKept(string folder)
    {
        if (WhyUnavailable() is { } why) throw new InvalidOperationException(why);
        Directory.CreateDirectory(folder);
        return StartIn(Path.GetFullPath(folder), keep: true);
    }

    /// <summary>The server's process id (the postmaster: every backend is its child and inherits its CPU affinity).</summary>
    public int ServerProcessId => int.Parse(File.ReadLines(Path.Combine(_data, "postmaster.pid")).First(), CultureInfo.InvariantCulture);

    private static Q3cDatabase StartIn(string root, bool keep)
    {
        bool asSystemUser = Environment.UserName == "root";
        var db = new Q3cDatabase(root, FreePort(), asSystemUser, keep);
        try
        {
            if (asSystemUser) RunTool("/usr/bin/chown", [SystemUser, root], asSystemUser: false, root);
            bool exists = File.Exists(Path.Combine(db._data, "PG_VERSION"));
            if (!exists) db.Tool("initdb", ["-D", db._data, "-U", SystemUser, "-A", "trust", "-E", "UTF8", "--no-sync", "--no-instructions"]);
            string options = string.Join(' ',
                "-k", root, "-p", db.Port.ToString(CultureInfo.InvariantCulture), "-c", "listen_addresses=''",
                "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                "-c", "shared_buffers=256MB", "-c", "max_wal_size=4GB", "-c", "maintenance_work_mem=512MB",
                // No autovacuum racing the loads (Index analyzes itself); no JIT compiling the join (~0.1-0.5 s a query, nothing gained).
                "-c", "autovacuum=off", "-c", "jit=off");
            db.Tool("pg_ctl", ["-D", db._data, "-l", Path.Combine(root, "server.log"), "-o", options, "-w", "-t", "60", "start"]);
            db.Execute("create extension if not exists q3c");
            return db;
        }
        catch (Exception e)
        {
            string log = db.ServerLog();
            db.Dispose();
            throw new InvalidOperationException($"private PostgreSQL cluster in {root} failed: {e.Message}{(log.Length > 0 ? "\nserver.log:\n" + log : "")}", e);
        }
    }

    /// <summary>An open connection to the cluster.</summary>
    public NpgsqlConnection Open()
    {
        var connection = new NpgsqlConnection(ConnectionString);
        connection.Open();
        return connection;
    }

    /// <summary>Runs one SQL statement.</summary>
    public void Execute(string sql)
    {
        using var connection = Open();
        using var command = new NpgsqlCommand(sql, connection);
        command.ExecuteNonQuery();
    }

    /// <summary>
    /// Creates table <paramref name="table"/> <c>(id bigint, ra double precision, dec double precision)</c>, degrees
    /// (ICRS), and fills it by binary COPY (millions of rows in seconds). Coordinates go in as given, NaN included.
    /// </summary>
    /// <exception cref="ArgumentException">The arrays differ in length or the table name is not a plain identifier.</exception>
    public void Load(string table, ReadOnlySpan<long> ids, ReadOnlySpan<double> ra, ReadOnlySpan<double> dec)
    {
        CheckIdentifier(table);
        if (ra.Length != ids.Length || dec.Length != ids.Length)
            throw new ArgumentException($"ids, ra and dec differ in length ({ids.Length}, {ra.Length}, {dec.Length})");
        using var connection = Open();
        using (var create = new NpgsqlCommand($"create unlogged table {table} (id bigint not null, ra double precision not null, dec double precision not null)", connection))
            create.ExecuteNonQuery();
        using var writer = connection.BeginBinaryImport($"copy {table} (id, ra, dec) from stdin (format binary)");
        for (int i = 0; i < ids.Length; i++)
        {
            writer.StartRow();
            writer.Write(ids[i], NpgsqlDbType.Bigint);
            writer.Write(ra[i], NpgsqlDbType.Double);
            writer.Write(dec[i], NpgsqlDbType.Double);
        }
        writer.Complete();
    }

    /// <summary>
    /// Builds Q3C's index on <paramref name="table"/> as its README says: <c>create index on t (q3c_ang2ipix(ra, dec))</c>,
    /// <c>cluster</c> the table on it (unless <paramref name="cluster"/> is false), <c>analyze</c>.
    /// </summary>
    /// <remarks>
    /// <c>cluster</c> rewrites the table and rebuilds the index, about as long again as the first two steps; it changes
    /// only the heap's order, so the pairs of a join are the same without it. On 3·10^6 rows it cost 11 s and saved
    /// 4 s of a 9·10^6-pair join: skip it where the table stays in memory and only the pairs matter.
    /// </remarks>
    public void Index(string table, bool cluster = true)
    {
        CheckIdentifier(table);
        Execute($"create index {table}_q3c on {table} (q3c_ang2ipix(ra, dec))");
        if (cluster) Execute($"cluster {table} using {table}_q3c");
        Execute($"analyze {table}");
    }

    /// <summary>
    /// Every pair of <c>q3c_join(p.ra, p.dec, c.ra, c.dec, radius)</c> for positions <paramref name="positions"/>
    /// and catalogue <paramref name="catalog"/> (the indexed table), with <c>q3c_dist</c> in arcseconds; in no
    /// particular order. Q3C's join is the index's cone search refined by the exact distance, so no pair beyond the
    /// radius is returned.
    /// </summary>
    public List<Q3cPair> Join(string positions, string catalog, double radiusArcsec)
    {
        CheckIdentifier(positions);
        CheckIdentifier(catalog);
        if (!(radiusArcsec > 0) || !double.IsFinite(radiusArcsec)) throw new ArgumentOutOfRangeException(nameof(radiusArcsec), radiusArcsec, "radius must be positive and finite");
        string radiusDeg = (radiusArcsec / 3600.0).ToString("R", CultureInfo.InvariantCulture);
        var pairs = new List<Q3cPair>();
        using var connection = Open();
        using var reader = connection.BeginBinaryExport(
            $"copy (select p.id, c.id, q3c_dist(p.ra, p.dec, c.ra, c.dec) * 3600.0 from {positions} p, {catalog} c " +
            $"where q3c_join(p.ra, p.dec, c.ra, c.dec, {radiusDeg}::double precision)) to stdout (format binary)");
        while (reader.StartRow() >= 0)
            pairs.Add(new Q3cPair(reader.Read<long>(NpgsqlDbType.Bigint), reader.Read<long>(NpgsqlDbType.Bigint), reader.Read<double>(NpgsqlDbType.Double)));
        return pairs;
    }

    /// <summary>Stops the server (<c>pg_ctl stop -m fast</c>) and deletes the folder (unless <see cref="StartKept"/> started it).</summary>
    public void Dispose()
    {
        if (_stopped) return;
        _stopped = true;
        try
        {
            if (File.Exists(Path.Combine(_data, "postmaster.pid")))
                Tool("pg_ctl", ["-D", _data, "-m", "fast", "-w", "-t", "60", "stop"]);
        }
        finally
        {
            if (!_keep) DeleteFolder();
        }
    }

    private void DeleteFolder()
    {
        try { Directory.Delete(_root, recursive: true); }
        catch (IOException) { /* a server that would not stop still holds files; the temp folder is left to the OS */ }
        catch (UnauthorizedAccessException) { }
    }

    private string ServerLog()
    {
        try { return File.ReadAllText(Path.Combine(_root, "server.log")); }
        catch (IOException) { return ""; }
        catch (UnauthorizedAccessException) { return ""; }
    }

    private void Tool(string name, string[] args) => RunTool(Path.Combine(BinDirectory, name), args, _asSystemUser, _root);

    private static void RunTool(string exe, string[] args, bool asSystemUser, string workingDirectory)
    {
        var start = new ProcessStartInfo(asSystemUser ? "/usr/sbin/runuser" : exe)
        {
            // The postgres user may not be allowed into the caller's folder; its own folder it is.
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (asSystemUser)
        {
            foreach (string a in new[] { "-u", SystemUser, "--", exe }) start.ArgumentList.Add(a);
        }
        foreach (string a in args) start.ArgumentList.Add(a);
        // The server inherits the environment: keep it off the system cluster's settings.
        foreach (string v in new[] { "PGDATA", "PGHOST", "PGPORT", "PGUSER", "PGDATABASE" }) start.Environment.Remove(v);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {exe}");
        // pg_ctl start leaves the server running with our pipes unless it redirects them; it does (-l), so reading to the end returns.
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"{Path.GetFileName(exe)} ran longer than 2 minutes");
        }
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{Path.GetFileName(exe)} {string.Join(' ', args)} exited with {process.ExitCode}: {stderr.Result.Trim()} {stdout.Result.Trim()}");
    }

    private static string? FindWhyUnavailable()
    {
        foreach (string tool in new[] { "initdb", "pg_ctl", "postgres" })
            if (!File.Exists(Path.Combine(BinDirectory, tool)))
                return $"Q3C oracle skipped: {Path.Combine(BinDirectory, tool)} not found (apt-get install postgresql-15 postgresql-15-q3c, or ./broker test)";
        if (!File.Exists(Q3cControlFile))
            return $"Q3C oracle skipped: {Q3cControlFile} not found (apt-get install postgresql-15-q3c, or ./broker test)";
        if (Environment.UserName == "root" && !File.Exists("/usr/sbin/runuser"))
            return "Q3C oracle skipped: running as root, and /usr/sbin/runuser is missing to start PostgreSQL as the postgres user";
        return null;
    }

    private static int FreePort()
    {
        // Only the socket file's name uses the port (nothing listens on TCP), and the socket lives in a private
        // folder; a free TCP port still keeps the name clear of anything a reader might confuse it with.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static void CheckIdentifier(string name)
    {
        if (name.Length == 0 || name.Length > 48 || !(char.IsAsciiLetterLower(name[0]) || name[0] == '_'))
            throw new ArgumentException($"table name '{name}' must be a plain lower-case identifier", nameof(name));
        foreach (char c in name)
            if (!(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_'))
                throw new ArgumentException($"table name '{name}' must be a plain lower-case identifier", nameof(name));
    }
}

/// <summary>One pair from <see cref="Q3cDatabase.Join"/>: position id, catalogue id, <c>q3c_dist</c> in arcseconds.</summary>
public readonly record struct Q3cPair(long PositionId, long CatalogId, double SeparationArcsec);

/// <summary>A fact that needs <see cref="Q3cDatabase"/>: skipped, with the reason, when PostgreSQL 15 or Q3C is not installed.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class Q3cFactAttribute : FactAttribute
{
    /// <inheritdoc/>
    public override string Skip
    {
        get => base.Skip ?? Q3cDatabase.WhyUnavailable()!;
        set => base.Skip = value;
    }
}

/// <summary>A theory that needs <see cref="Q3cDatabase"/>: skipped, with the reason, when PostgreSQL 15 or Q3C is not installed.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class Q3cTheoryAttribute : TheoryAttribute
{
    /// <inheritdoc/>
    public override string Skip
    {
        get => base.Skip ?? Q3cDatabase.WhyUnavailable()!;
        set => base.Skip = value;
    }
}
