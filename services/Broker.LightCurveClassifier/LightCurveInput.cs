using Broker.Alerts.Model;
using Broker.LightCurves;

namespace Broker.LightCurveClassifier;

/// <summary>
/// The classifier's input: which alerts it classifies (<see cref="Eligibility"/>) and the feature row of one
/// (<see cref="Write"/>), the same code in the trainer and the service.
/// </summary>
public static class LightCurveInput
{
    /// <summary>
    /// Detections an alert's light curve needs in g or in r: ALeRCE's light-curve classifier takes objects with at
    /// least 6 detections in g or in r (Sánchez-Sáez et al. 2021, AJ 161, 141, §3).
    /// </summary>
    public const int MinDetections = 6;

    /// <summary>
    /// What a feature that is undefined (NaN: too few points, a failed fit) or infinite becomes in the row: -999, as
    /// ALeRCE's lc_classifier fills missing features before its balanced random forests.
    /// </summary>
    public const float MissingValue = -999f;

    /// <summary>
    /// Null when the loaded light curve can be classified, else why not: fewer than <see cref="MinDetections"/>
    /// usable detections in g and in r (points the light curve dropped as unusable, NaN or unknown bands, do not count).
    /// </summary>
    public static string? Eligibility(LightCurve lc, int minDetections = MinDetections)
    {
        ArgumentNullException.ThrowIfNull(lc);
        int g = lc.Detections(LightCurveBands.G).Count, r = lc.Detections(LightCurveBands.R).Count;
        if (g >= minDetections || r >= minDetections) return null;
        string dropped = lc.DroppedPoints > 0 ? $"; {lc.DroppedPoints} unusable point(s) dropped" : "";
        return $"too few detections: {g} in g and {r} in r, at least {minDetections} in g or in r needed{dropped}";
    }

    /// <summary>
    /// Computes the features of <paramref name="lc"/> with the workspace <paramref name="features"/> into
    /// <paramref name="scratch"/> and writes them as the model's row: float32, in <see cref="LightCurveFeatures.FeatureNames"/>
    /// order, NaN and infinities as <see cref="MissingValue"/>.
    /// </summary>
    public static void Write(LightCurve lc, LightCurveFeatures features, Span<double> scratch, Span<float> row)
    {
        ArgumentNullException.ThrowIfNull(features);
        int n = features.FeatureNames.Count;
        if (scratch.Length < n || row.Length < n) throw new ArgumentException($"the row needs {n} values");
        features.Compute(lc, scratch);
        for (int i = 0; i < n; i++)
        {
            double v = scratch[i];
            row[i] = double.IsFinite(v) && Math.Abs(v) < float.MaxValue ? (float)v : MissingValue;
        }
    }
}
