using BenchmarkDotNet.Attributes;
using Broker.Alerts.Avro;
using Broker.Alerts.Fits;
using Broker.Alerts.Model;

namespace Broker.Benchmarks;

/// <summary>
/// Decode throughput on the 651 real sample alerts (ZTF 2.0-4.02, Rubin 9.0-11.1): one operation = one alert,
/// so the reported time is per alert (alerts/s = 1e9 / mean ns); MB/s = mean datum size / mean time.
/// </summary>
[MemoryDiagnoser]
public class AlertDecodeBenchmarks
{
    private List<(AvroSchema Writer, byte[] Datum)> _alerts = [];
    private AvroDatumReader[] _readers = [];

    /// <summary>Bytes of Avro per alert on average (printed once, for MB/s).</summary>
    public double MeanDatumBytes { get; private set; }

    [GlobalSetup]
    public void Setup()
    {
        _alerts = SampleAlerts.Load();
        _readers = _alerts.Select(a => AvroDatumReader.For(a.Writer)).ToArray();
        MeanDatumBytes = _alerts.Average(a => a.Datum.Length);
        Console.WriteLine($"// {_alerts.Count} alerts, mean Avro datum {MeanDatumBytes:F0} bytes");
    }

    private int Count => _alerts.Count;

    [Benchmark(Description = "Avro decode to generic record", OperationsPerInvoke = 651)]
    public int Decode()
    {
        int fields = 0;
        for (int i = 0; i < _alerts.Count; i++) fields += ((AvroRecord)_readers[i].Read(_alerts[i].Datum)!).Values.Length;
        return fields + Count;
    }

    [Benchmark(Description = "decode + map to Broker alert", OperationsPerInvoke = 651)]
    public double DecodeAndMap()
    {
        double sum = 0;
        for (int i = 0; i < _alerts.Count; i++) sum += SurveyAlertMapper.Map((AvroRecord)_readers[i].Read(_alerts[i].Datum)!).Ra;
        return sum;
    }

    [Benchmark(Description = "decode + map + decompress cutouts", OperationsPerInvoke = 651)]
    public double DecodeMapAndCutouts()
    {
        double sum = 0;
        for (int i = 0; i < _alerts.Count; i++)
        {
            var alert = SurveyAlertMapper.Map((AvroRecord)_readers[i].Read(_alerts[i].Datum)!);
            if (alert.Cutouts is { } c)
            {
                if (c.Science is not null) sum += FitsFile.ReadFirstImage(c.Science).Width;
                if (c.Template is not null) sum += FitsFile.ReadFirstImage(c.Template).Width;
                if (c.Difference is not null) sum += FitsFile.ReadFirstImage(c.Difference).Width;
            }
        }
        return sum;
    }

    [Benchmark(Description = "encode Broker alert (current schema)", OperationsPerInvoke = 651)]
    public int EncodeBrokerAlert()
    {
        int bytes = 0;
        var w = new AvroWriter(1 << 16);
        foreach (var alert in _mapped ??= Mapped())
        {
            w.Reset();
            BrokerAlertCodec.Encode(alert, w);
            bytes += w.Length;
        }
        return bytes;
    }

    [Benchmark(Description = "decode Broker alert (BrokerAlertCodec.Decode)", OperationsPerInvoke = 651)]
    public double DecodeBrokerAlert()
    {
        double sum = 0;
        foreach (var bytes in _encoded ??= (_mapped ??= Mapped()).Select(BrokerAlertCodec.Encode).ToList()) sum += BrokerAlertCodec.Decode(bytes).Ra;
        return sum;
    }

    private List<Alert> Mapped() => _alerts.Select((a, i) => SurveyAlertMapper.Map((AvroRecord)_readers[i].Read(a.Datum)!)).ToList();

    private List<Alert>? _mapped;
    private List<byte[]>? _encoded;
}
