using Broker.Alerts.Model;

namespace Broker.LightCurves.Tests;

/// <summary>Synthetic light curves with known answers, and ZTF-like sampling.</summary>
internal static class Synthetic
{
    /// <summary>
    /// ZTF-like epochs over <paramref name="nights"/> nights: each night observed with probability 0.6, at a random
    /// time within an 8-hour window, g and r 30-60 minutes apart (ZTF's public survey: both bands most nights, 2-3 night cadence).
    /// </summary>
    public static List<(double Mjd, int Band)> ZtfEpochs(Random rng, int nights, double start = 60000.0)
    {
        var epochs = new List<(double, int)>();
        for (int night = 0; night < nights; night++)
        {
            if (rng.NextDouble() > 0.6) continue;
            double t = start + night + 0.1 + rng.NextDouble() * 0.33;
            epochs.Add((t, LightCurveBands.G));
            epochs.Add((t + (30 + 30 * rng.NextDouble()) / 1440.0, LightCurveBands.R));
        }
        return epochs;
    }

    /// <summary>Gaussian deviate (Box-Muller).</summary>
    public static double Gaussian(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>A detection record for an alert's history.</summary>
    public static Detection Det(double mjd, string band, double mag, double magErr) =>
        new() { MjdTai = mjd, Band = band, Mag = mag, MagErr = magErr, IsPositive = true };

    /// <summary>
    /// An alert whose own detection is the last of <paramref name="points"/> and whose history holds the rest, in the order given.
    /// </summary>
    public static Alert AlertOf(IReadOnlyList<Detection> points, IReadOnlyList<UpperLimit>? limits = null)
    {
        var last = points[^1];
        return new Alert
        {
            Survey = Survey.Ztf,
            AlertId = 1,
            ObjectId = "ZTFtest",
            MjdTai = last.MjdTai,
            Band = last.Band,
            Mag = last.Mag,
            MagErr = last.MagErr,
            Flux = double.NaN,
            FluxErr = double.NaN,
            IsPositive = last.IsPositive,
            Detections = [.. points.Take(points.Count - 1)],
            UpperLimits = limits ?? [],
        };
    }

    /// <summary>The features of <paramref name="lc"/> as a name → value map.</summary>
    public static Dictionary<string, double> Features(LightCurve lc, FeatureBands? layout = null)
    {
        var features = new LightCurveFeatures(layout ?? FeatureBands.Ztf);
        var values = new double[features.FeatureNames.Count];
        features.Compute(lc, values);
        return features.FeatureNames.Select((n, i) => (n, values[i])).ToDictionary(p => p.n, p => p.Item2);
    }
}
