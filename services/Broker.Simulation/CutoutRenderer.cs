namespace Broker.Simulation;

/// <summary>What the stamps around one alert contain. Positions in pixels from the stamp's lower-left pixel centre.</summary>
internal sealed class StampScene
{
    public required int Size { get; init; }
    public required double SeeingPx { get; init; }
    public required double RefSeeingPx { get; init; }
    public required double SkyLevel { get; init; }
    public required double SciNoise { get; init; }
    public required double RefNoise { get; init; }
    public required double Gain { get; init; }
    public double CenterX { get; init; }
    public double CenterY { get; init; }
    /// <summary>Flux of the alerting source at the centre in the science image (counts) and in the template.</summary>
    public double SourceSci { get; init; }
    public double SourceRef { get; init; }
    public double HostFlux { get; init; }
    public double HostX { get; init; }
    public double HostY { get; init; }
    public double HostRadiusPx { get; init; }
    public double HostAxisRatio { get; init; } = 1;
    public double HostAngleDeg { get; init; }
    public List<(double X, double Y, double Flux)> Stars { get; } = [];
    public ObjectClass Class { get; init; }
    public double BogusFlux { get; init; }
    /// <summary>A saturated star core masked with NaN: centre and radius in pixels.</summary>
    public (double X, double Y, double Radius)? Saturated { get; set; }
    /// <summary>Bad columns masked with NaN: first column, count, and whether the template has them too.</summary>
    public (int X0, int Count, bool InTemplate)? BadColumns { get; set; }
}

/// <summary>
/// Renders science, template and difference stamps: Moffat PSFs (β = 3; Moffat 1969, A&amp;A 3, 455; Trujillo et al.
/// 2001 for β ≈ 3 in ground-based seeing) of the visit's seeing, exponential-disc hosts, field stars from the
/// latitude-dependent density, sky plus Poisson noise, and the artefact classes drawn the way they look in ZTF
/// (cosmic rays and hot pixels sharper than the PSF; dipoles from misregistration; ring residuals from PSF mismatch).
/// </summary>
internal static class CutoutRenderer
{
    private const double Beta = 3.0;

    public static (float[] Sci, float[] Ref, float[] Diff) Render(StampScene s, ref SimRandom rng)
    {
        int n = s.Size;
        var sci = new float[n * n];
        var tmpl = new float[n * n];
        var diff = new float[n * n];
        foreach (var (x, y, f) in s.Stars)
        {
            AddMoffat(sci, n, x, y, f, s.SeeingPx);
            AddMoffat(tmpl, n, x, y, f, s.RefSeeingPx);
            if (f > 30 * s.SciNoise * s.SeeingPx)
            {
                // Imperfect PSF matching leaves about 1% of a bright star's flux as a ring in the difference.
                AddMoffat(diff, n, x, y, 0.01 * f, s.SeeingPx);
                AddMoffat(diff, n, x, y, -0.01 * f, s.SeeingPx * 1.3);
            }
        }
        if (s.HostFlux > 0)
        {
            AddExponential(sci, n, s.HostX, s.HostY, s.HostFlux, s.HostRadiusPx, s.HostAxisRatio, s.HostAngleDeg, s.SeeingPx);
            AddExponential(tmpl, n, s.HostX, s.HostY, s.HostFlux, s.HostRadiusPx, s.HostAxisRatio, s.HostAngleDeg, s.RefSeeingPx);
        }
        double cx = s.CenterX, cy = s.CenterY;
        if (s.SourceSci != 0 || s.SourceRef != 0)
        {
            AddMoffat(sci, n, cx, cy, Math.Max(0, s.SourceSci), s.SeeingPx);
            AddMoffat(tmpl, n, cx, cy, Math.Max(0, s.SourceRef), s.RefSeeingPx);
            AddMoffat(diff, n, cx, cy, s.SourceSci - s.SourceRef, s.SeeingPx);
        }
        AddBogus(s, sci, tmpl, diff, ref rng);
        // Noise: the science image carries sky plus source Poisson noise; the template (a coadd of ~15-40 frames)
        // about 3.5 times less; the difference gets the science noise realisation minus the template's.
        double gain = s.Gain;
        for (int i = 0; i < sci.Length; i++)
        {
            double model = sci[i];
            double sigma = Math.Sqrt(s.SciNoise * s.SciNoise + Math.Max(0, model) / gain);
            double ns = sigma * rng.Gaussian(), nr = s.RefNoise * rng.Gaussian();
            sci[i] = (float)(s.SkyLevel + model + ns);
            tmpl[i] = (float)(s.SkyLevel + tmpl[i] + nr);
            diff[i] = (float)(diff[i] + ns - nr);
        }
        Mask(s, sci, tmpl, diff);
        return (sci, tmpl, diff);
    }

    /// <summary>NaN where IPAC masks pixels: saturated cores (the template's a little smaller, being deeper but co-added) and bad columns.</summary>
    private static void Mask(StampScene s, float[] sci, float[] tmpl, float[] diff)
    {
        int n = s.Size;
        if (s.Saturated is { } sat)
        {
            double r2 = sat.Radius * sat.Radius, t2 = r2 * 0.6;
            for (int y = 0; y < n; y++)
            {
                for (int x = 0; x < n; x++)
                {
                    double d2 = (x - sat.X) * (x - sat.X) + (y - sat.Y) * (y - sat.Y);
                    if (d2 > r2) continue;
                    sci[y * n + x] = diff[y * n + x] = float.NaN;
                    if (d2 <= t2) tmpl[y * n + x] = float.NaN;
                }
            }
        }
        if (s.BadColumns is { } bad)
        {
            for (int y = 0; y < n; y++)
            {
                for (int x = bad.X0; x < bad.X0 + bad.Count; x++)
                {
                    sci[y * n + x] = diff[y * n + x] = float.NaN;
                    if (bad.InTemplate) tmpl[y * n + x] = float.NaN;
                }
            }
        }
    }

    private static void AddBogus(StampScene s, float[] sci, float[] tmpl, float[] diff, ref SimRandom rng)
    {
        int n = s.Size;
        double cx = s.CenterX, cy = s.CenterY, f = s.BogusFlux;
        switch (s.Class)
        {
            case ObjectClass.BogusCosmicRay:
            {
                // A track of a few pixels, sharper than any PSF, only in the science image.
                double ang = rng.Uniform(0, Math.PI), len = rng.Uniform(1, 9);
                int steps = (int)(len * 2) + 1;
                for (int k = 0; k < steps; k++)
                {
                    double t = steps == 1 ? 0 : k / (steps - 1.0) - 0.5;
                    int x = (int)Math.Round(cx + t * len * Math.Cos(ang)), y = (int)Math.Round(cy + t * len * Math.Sin(ang));
                    if ((uint)x >= n || (uint)y >= n) continue;
                    double v = f / steps * 2 * rng.Uniform(0.6, 1.4);
                    sci[y * n + x] += (float)v;
                    diff[y * n + x] += (float)v;
                }
                break;
            }
            case ObjectClass.BogusHotPixel:
            {
                int x = (int)Math.Round(cx), y = (int)Math.Round(cy);
                sci[y * n + x] += (float)f;
                diff[y * n + x] += (float)f;
                if (rng.Chance(0.4))
                {
                    sci[y * n + x + 1] += (float)(0.3 * f);
                    diff[y * n + x + 1] += (float)(0.3 * f);
                }
                break;
            }
            case ObjectClass.BogusDipole:
            {
                // A bright star registered a fraction of a pixel apart in the two images: a positive and a negative lobe.
                double star = f * rng.Uniform(8, 40), dx = rng.Uniform(-0.8, 0.8), dy = rng.Uniform(-0.8, 0.8);
                AddMoffat(sci, n, cx + dx / 2, cy + dy / 2, star, s.SeeingPx);
                AddMoffat(tmpl, n, cx - dx / 2, cy - dy / 2, star, s.RefSeeingPx);
                AddMoffat(diff, n, cx + dx / 2, cy + dy / 2, star, s.SeeingPx);
                AddMoffat(diff, n, cx - dx / 2, cy - dy / 2, -star, s.SeeingPx);
                break;
            }
            case ObjectClass.BogusBadSubtraction:
            {
                // A bright galaxy core or star with a PSF mismatch: a sharp core and a negative ring (or the reverse).
                double src = f * rng.Uniform(5, 20), ratio = rng.Uniform(1.2, 1.6) * (rng.Chance(0.5) ? 1 : 1 / 1.4);
                AddMoffat(sci, n, cx, cy, src, s.SeeingPx);
                AddMoffat(tmpl, n, cx, cy, src, s.RefSeeingPx);
                AddMoffat(diff, n, cx, cy, src * 0.25, s.SeeingPx);
                AddMoffat(diff, n, cx, cy, -src * 0.25, s.SeeingPx * ratio);
                AddMoffat(diff, n, cx, cy, f * 0.4, s.SeeingPx);
                break;
            }
            case ObjectClass.BogusGhost:
            {
                // A reflection: a broad, soft blob several seeing disks wide, in the science image only.
                double w = s.SeeingPx * rng.Uniform(3, 6);
                AddMoffat(sci, n, cx, cy, f * 3, w);
                AddMoffat(diff, n, cx, cy, f * 3, w);
                break;
            }
        }
    }

    /// <summary>Adds a Moffat profile of total flux <paramref name="flux"/> (β = 3) within 5 FWHM of its centre.</summary>
    public static void AddMoffat(float[] img, int n, double x0, double y0, double flux, double fwhm)
    {
        if (flux == 0) return;
        double alpha = fwhm / (2 * Math.Sqrt(Math.Pow(2, 1 / Beta) - 1));
        double a2 = 1 / (alpha * alpha), norm = flux * (Beta - 1) / (Math.PI * alpha * alpha);
        int r = (int)Math.Ceiling(5 * fwhm);
        int xa = Math.Max(0, (int)x0 - r), xb = Math.Min(n - 1, (int)x0 + r), ya = Math.Max(0, (int)y0 - r), yb = Math.Min(n - 1, (int)y0 + r);
        for (int y = ya; y <= yb; y++)
        {
            double dy2 = (y - y0) * (y - y0);
            int row = y * n;
            for (int x = xa; x <= xb; x++)
            {
                double q = 1 + ((x - x0) * (x - x0) + dy2) * a2;
                img[row + x] += (float)(norm / (q * q * q));
            }
        }
    }

    /// <summary>Adds an exponential disc (half-light radius in pixels), softened by the seeing so its core is not sharper than the PSF.</summary>
    public static void AddExponential(float[] img, int n, double x0, double y0, double flux, double rePx, double q, double angleDeg, double fwhm)
    {
        double h = Math.Max(0.3, rePx / 1.678), soft = fwhm / 2.355;
        double c = Math.Cos(angleDeg * Math.PI / 180), s = Math.Sin(angleDeg * Math.PI / 180);
        double hEff = Math.Sqrt(h * h + soft * soft * 0.5);
        double norm = flux / (2 * Math.PI * hEff * hEff * q);
        for (int y = 0; y < n; y++)
        {
            for (int x = 0; x < n; x++)
            {
                double dx = x - x0, dy = y - y0;
                double u = dx * c + dy * s, v = (-dx * s + dy * c) / q;
                double r = Math.Sqrt(u * u + v * v + soft * soft);
                img[y * n + x] += (float)(norm * Math.Exp(-(r - soft) / hEff));
            }
        }
    }

    /// <summary>A normalised PSF image (Rubin's PSFIMAGE extension), centred.</summary>
    public static float[] PsfImage(int n, double fwhm)
    {
        var img = new float[n * n];
        AddMoffat(img, n, (n - 1) / 2.0, (n - 1) / 2.0, 1, fwhm);
        double sum = 0;
        foreach (float v in img) sum += v;
        for (int i = 0; i < img.Length; i++) img[i] = (float)(img[i] / sum);
        return img;
    }
}
