using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Broker.Alerts.Avro;

namespace Broker.Simulation;

/// <summary>One simulated alert: its Avro body, the packet as a survey would send it, and its ground truth.</summary>
/// <param name="AlertId">ZTF <c>candid</c> or Rubin <c>diaSourceId</c>.</param>
/// <param name="Datum">The alert record in Avro binary encoding (no header).</param>
/// <param name="Truth">What generated it.</param>
public sealed record SimulatedAlert(long AlertId, byte[] Datum, TruthRecord Truth)
{
    /// <summary>The exposure the alert comes from (ZTF: the exposure part of pid; Rubin: visit).</summary>
    internal long VisitId { get; init; }

    /// <summary>
    /// The packet as it travels: for ZTF an Avro container file holding this one alert (as IPAC sends them); for
    /// Rubin the Confluent wire format (magic 0, schema id 1100, body).
    /// </summary>
    public byte[] ToPacket(SurveyKind survey) => survey == SurveyKind.Ztf
        ? AvroFiles.SingleRecordContainer(SurveySchemas.Ztf, Datum, (ulong)AlertId)
        : AvroFiles.ConfluentFramed(SurveySchemas.LsstSchemaId, Datum);
}

/// <summary>One row of truth.csv.</summary>
/// <param name="AlertId">ZTF candid or Rubin diaSourceId.</param>
/// <param name="ObjectId">ZTF objectId, or Rubin diaObjectId (ssObjectId for asteroids).</param>
/// <param name="Class">True class.</param>
/// <param name="SsDesignation">Asteroid designation as ZTF writes ssnamenr, or empty.</param>
/// <param name="MjdUtc">Exposure start, UTC MJD.</param>
/// <param name="Band">Filter name.</param>
/// <param name="RaDeg">True RA, degrees.</param>
/// <param name="DecDeg">True Dec, degrees.</param>
/// <param name="Mag">Measured difference magnitude.</param>
/// <param name="Parameters">Generator parameters, key=value;...</param>
public sealed record TruthRecord(long AlertId, string ObjectId, ObjectClass Class, string SsDesignation, double MjdUtc, string Band, double RaDeg, double DecDeg, double Mag, string Parameters)
{
    /// <summary>The CSV header.</summary>
    public const string Header = "alert_id,object_id,class,ss_designation,mjd_utc,band,ra,dec,mag,ephemeris,parameters";

    /// <summary>The CSV row.</summary>
    public string ToCsv(string ephemeris) => string.Create(CultureInfo.InvariantCulture,
        $"{AlertId},{ObjectId},{Class},{SsDesignation},{MjdUtc:F6},{Band},{RaDeg:F7},{DecDeg:F7},{Mag:F3},{(Class == ObjectClass.Asteroid ? "\"" + ephemeris + "\"" : "")},\"{Parameters}\"");
}

/// <summary>What a run wrote.</summary>
/// <param name="Alerts">Alerts written.</param>
/// <param name="Visits">Visits simulated.</param>
/// <param name="Files">Alert files written.</param>
public sealed record SimulationSummary(long Alerts, int Visits, int Files);

/// <summary>How <see cref="AlertSimulator.WriteAsync"/> lays out alert files.</summary>
public enum OutputLayout
{
    /// <summary>One Avro container file per visit (exposure) holding all its alerts: DIR/alerts/&lt;survey&gt;_&lt;visit&gt;.avro.</summary>
    PerVisit,

    /// <summary>
    /// One file per alert, as the surveys send them: ZTF a single-alert container file DIR/alerts/&lt;candid&gt;.avro;
    /// Rubin a Confluent-framed message DIR/alerts/&lt;diaSourceId&gt;.bin.
    /// </summary>
    PerAlert,
}

/// <summary>
/// The alert simulator (issue 4). Deterministic for a seed: equal options give byte-identical output, whatever the
/// worker count. Streams: memory does not grow with the number of nights or alerts.
/// </summary>
public static class AlertSimulator
{
    private const int Chunk = 256;
    private const int MaxChunk = 1024;

    /// <summary>How asteroid positions are computed; the <c>ephemeris</c> column of truth.csv for asteroids.</summary>
    public static string EphemerisName => SimulationEngine.EphemerisName;

    /// <summary>
    /// Every alert of the run in time order (visit by visit), encoded in parallel by <see cref="SimulationOptions.Workers"/>
    /// threads. Use <see cref="SimulatedAlert.ToPacket"/> for the bytes a survey would send.
    /// </summary>
    public static IEnumerable<SimulatedAlert> Generate(SimulationOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var engine = new SimulationEngine(options);
        var ztf = options.Survey == SurveyKind.Ztf ? new ZtfPacketBuilder(engine) : null;
        var lsst = options.Survey == SurveyKind.Lsst ? new LsstPacketBuilder(engine) : null;
        // Visits are gathered until a batch holds at least Chunk alerts (a ZTF visit has a handful), so the workers get
        // enough to share; the batch is encoded in parallel and yielded in order.
        var batch = new List<(AlertSpec Spec, List<Visit> History)>(Chunk * 2);
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.Workers, CancellationToken = cancellationToken };
        for (int night = 0; night < options.Nights; night++)
        {
            var visits = engine.Night(night).All;
            for (int vi = 0; vi < visits.Count; vi++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var visit = visits[vi];
                var alerts = engine.AlertsAt(visit);
                // The field's earlier visits, found once and shared by the visit's alerts (worker threads only read it).
                var history = engine.History(visit);
                foreach (var spec in alerts) batch.Add((spec, history));
                if (batch.Count < Chunk && vi < visits.Count - 1) continue;
                // At most MaxChunk encoded alerts are held at once (an LSST visit has ~10,000): constant memory.
                var specs = batch;
                for (int start = 0; start < specs.Count; start += MaxChunk)
                {
                    int from = start, count = Math.Min(MaxChunk, specs.Count - start);
                    var results = new SimulatedAlert[count];
                    Parallel.For(0, count, parallel, i =>
                        results[i] = ztf is not null ? Encode(ztf, specs[from + i]) : Encode(lsst!, specs[from + i]));
                    foreach (var r in results) yield return r;
                }
                batch.Clear();
            }
        }
    }

    private static SimulatedAlert Encode(ZtfPacketBuilder builder, (AlertSpec Spec, List<Visit> History) alert)
    {
        var spec = alert.Spec;
        var record = builder.Build(spec, alert.History, out string objectId, out long candid);
        return new SimulatedAlert(candid, AvroDatumWriter.For(SurveySchemas.Ztf).ToBytes(record), Truth(spec, candid, objectId, spec.Visit.Field.Id, "gr"))
        {
            VisitId = spec.Visit.VisitId,
        };
    }

    private static SimulatedAlert Encode(LsstPacketBuilder builder, (AlertSpec Spec, List<Visit> History) alert)
    {
        var spec = alert.Spec;
        var record = builder.Build(spec, alert.History, out long objectId, out long diaSourceId);
        return new SimulatedAlert(diaSourceId, AvroDatumWriter.For(SurveySchemas.Lsst).ToBytes(record), Truth(spec, diaSourceId, objectId.ToString(CultureInfo.InvariantCulture), spec.Visit.Field.Id, "ugrizy"))
        {
            VisitId = spec.Visit.VisitId,
        };
    }

    private static TruthRecord Truth(AlertSpec s, long alertId, string objectId, int field, string bands) =>
        new(alertId, objectId, s.Class, s.Asteroid?.Designation ?? "", s.Visit.MjdUtc,
            bands.Length == 2 ? (s.Visit.Band == 0 ? "g" : "r") : bands[s.Visit.Band].ToString(),
            s.RaDeg, s.DecDeg, s.Measurement.Mag, FormattableString.Invariant($"field={field};visit={s.Visit.VisitId};seeing={s.Visit.SeeingArcsec:F2};maglim={s.Visit.LimitingMag:F2};{s.Parameters}"));

    /// <summary>
    /// Writes the run to <paramref name="outDir"/>: alert files under <c>alerts/</c> (see <see cref="OutputLayout"/>)
    /// and <c>truth.csv</c>. Returns counts.
    /// </summary>
    public static async Task<SimulationSummary> WriteAsync(SimulationOptions options, string outDir, OutputLayout layout = OutputLayout.PerVisit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        string alertDir = Path.Combine(outDir, "alerts");
        Directory.CreateDirectory(alertDir);
        string prefix = options.Survey == SurveyKind.Ztf ? "ztf" : "lsst";
        var schema = options.Survey == SurveyKind.Ztf ? SurveySchemas.Ztf : SurveySchemas.Lsst;
        string ephemeris = SimulationEngine.EphemerisName;
        await using var truth = new StreamWriter(Path.Combine(outDir, "truth.csv"), false, new UTF8Encoding(false), 1 << 16);
        await truth.WriteLineAsync(TruthRecord.Header.AsMemory(), cancellationToken);
        long alerts = 0;
        int files = 0;
        var visits = new HashSet<long>();
        AvroContainerWriter? current = null;
        long currentVisit = long.MinValue;
        try
        {
            foreach (var alert in Pipelined(Generate(options, cancellationToken), 4096, cancellationToken))
            {
                long visit = alert.VisitId;
                visits.Add(visit);
                if (layout == OutputLayout.PerVisit)
                {
                    if (visit != currentVisit)
                    {
                        current?.Dispose();
                        current = AvroFiles.ContainerWriter(File.Create(Path.Combine(alertDir, $"{prefix}_{visit}.avro")), schema, (ulong)visit ^ options.Seed);
                        currentVisit = visit;
                        files++;
                    }
                    current!.AppendEncoded(alert.Datum);
                }
                else
                {
                    string ext = options.Survey == SurveyKind.Ztf ? "avro" : "bin";
                    await File.WriteAllBytesAsync(Path.Combine(alertDir, $"{alert.AlertId}.{ext}"), alert.ToPacket(options.Survey), cancellationToken);
                    files++;
                }
                await truth.WriteLineAsync(alert.Truth.ToCsv(ephemeris).AsMemory(), cancellationToken);
                alerts++;
            }
        }
        finally
        {
            current?.Dispose();
        }
        return new SimulationSummary(alerts, visits.Count, files);
    }

    /// <summary>
    /// Runs <paramref name="source"/> on its own thread, at most <paramref name="capacity"/> items ahead, so writing
    /// files overlaps with generating the next alerts. Order is kept; memory is bounded by the capacity.
    /// </summary>
    private static IEnumerable<T> Pipelined<T>(IEnumerable<T> source, int capacity, CancellationToken cancellationToken)
    {
        using var queue = new System.Collections.Concurrent.BlockingCollection<T>(capacity);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var producer = Task.Factory.StartNew(() =>
        {
            try
            {
                foreach (var item in source) queue.Add(item, stop.Token);
            }
            finally
            {
                queue.CompleteAdding();
            }
        }, stop.Token, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        try
        {
            foreach (var item in queue.GetConsumingEnumerable(stop.Token)) yield return item;
        }
        finally
        {
            stop.Cancel();
            try
            {
                producer.Wait(CancellationToken.None);
            }
            catch (AggregateException e) when (e.InnerException is OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                // The consumer stopped early (an exception while writing); the producer was told to stop.
            }
        }
        // Surface a producer failure (GetConsumingEnumerable ends quietly when adding completes).
        producer.GetAwaiter().GetResult();
    }
}

/// <summary>
/// Packets in the surveys' formats with reproducible bytes: Avro Object Container Files written by
/// <see cref="AvroContainerWriter"/> with a sync marker derived from a key (Avro 1.11 specification, "Object Container
/// Files": the marker only has to be unlikely to occur in the data), and Confluent framing.
/// </summary>
public static class AvroFiles
{
    /// <summary>The 16-byte sync marker for <paramref name="key"/>: two 64-bit hashes of it.</summary>
    public static byte[] SyncMarker(ulong key)
    {
        var sync = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(sync, SimRandom.Hash(0x5C, key));
        BinaryPrimitives.WriteUInt64LittleEndian(sync.AsSpan(8), SimRandom.Hash(0x5D, key));
        return sync;
    }

    /// <summary>A container writer (codec null, one block per megabyte) whose sync marker derives from <paramref name="key"/>.</summary>
    public static AvroContainerWriter ContainerWriter(Stream output, AvroSchema schema, ulong key, bool leaveOpen = false) =>
        new(output, schema, "null", 1 << 20, null, leaveOpen, SyncMarker(key));

    /// <summary>An OCF holding one record, codec null.</summary>
    public static byte[] SingleRecordContainer(AvroSchema schema, ReadOnlySpan<byte> datum, ulong key)
    {
        using var ms = new MemoryStream(datum.Length + 16 * 1024);
        using (var w = ContainerWriter(ms, schema, key, leaveOpen: true)) w.AppendEncoded(datum);
        return ms.ToArray();
    }

    /// <summary>A Confluent-framed message: 0x00, big-endian schema id, body.</summary>
    public static byte[] ConfluentFramed(int schemaId, ReadOnlySpan<byte> datum)
    {
        var w = AvroScratchWriter.Rent();
        try
        {
            ConfluentWireFormat.WriteHeader(w, schemaId);
            w.WriteRaw(datum);
            return w.ToArray();
        }
        finally
        {
            AvroScratchWriter.Return(w);
        }
    }
}
