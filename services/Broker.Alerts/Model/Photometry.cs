namespace Broker.Alerts.Model;

/// <summary>
/// AB magnitudes and fluxes in nanojansky. The AB system's zero point is 3631 Jy (Oke &amp; Gunn 1983), so
/// m = -2.5 log10(f / 3631 Jy) = 31.4 - 2.5 log10(f / nJy) (to 0.0001 mag; 2.5 log10(3631e9) = 31.4000).
/// </summary>
public static class Photometry
{
    /// <summary>The AB magnitude of 1 nJy.</summary>
    public const double NanojanskyZeroPoint = 31.4;

    private const double Pogson = 1.0857362047581294; // 2.5 / ln(10)

    /// <summary>Flux in nJy of an AB magnitude.</summary>
    public static double MagToFlux(double mag) => Math.Pow(10.0, -0.4 * (mag - NanojanskyZeroPoint));

    /// <summary>Flux uncertainty in nJy from a magnitude uncertainty (first-order error propagation).</summary>
    public static double MagErrToFluxErr(double flux, double magErr) => Math.Abs(flux) * magErr / Pogson;

    /// <summary>AB magnitude of |flux| in nJy; NaN when the flux is zero or not finite.</summary>
    public static double FluxToMag(double flux) =>
        flux == 0 || !double.IsFinite(flux) ? double.NaN : NanojanskyZeroPoint - 2.5 * Math.Log10(Math.Abs(flux));

    /// <summary>Magnitude uncertainty from flux and its uncertainty.</summary>
    public static double FluxErrToMagErr(double flux, double fluxErr) => Pogson * fluxErr / Math.Abs(flux);

    /// <summary>Converts a flux in data numbers at photometric zero point <paramref name="zeroPointMag"/> to nJy.</summary>
    public static double DataNumberToNanojansky(double dn, double zeroPointMag) => dn * Math.Pow(10.0, -0.4 * (zeroPointMag - NanojanskyZeroPoint));
}
