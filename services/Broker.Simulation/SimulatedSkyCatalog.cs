using Broker.Catalogs;
using Broker.Sky;

namespace Broker.Simulation;

/// <summary>Which of the simulated sky's sources <see cref="SimulatedSkyCatalog.Rows"/> lists.</summary>
[Flags]
public enum SimulatedSources
{
    /// <summary>The stars of the Galactic classes (variable stars, CVs, novae, YSOs), at the star's position.</summary>
    Stars = 1,

    /// <summary>The host galaxies of supernovae and AGN, at the galaxy's centre, and quasars at their own position.</summary>
    Galaxies = 2,

    /// <summary>Both.</summary>
    All = Stars | Galaxies,
}

/// <summary>
/// The simulator's sky as a catalogue (issue 11): one row per object of every field's population, the objects
/// <c>AlertsAt</c> scans for alerts, so every simulated alert of an astrophysical object (asteroids and artefacts
/// apart) has its true counterpart here. A deterministic function of the options, like the alerts: the same options
/// give the same rows in the same order (fields in grid order, then slots).
/// </summary>
/// <remarks>
/// <para><b>Identifier:</b> the object as its alerts name it: ZTF <c>objectId</c> text (<c>ZTF25abcdefg</c>), Rubin
/// <c>diaObjectId</c>; the simulator's own object key is the <c>key</c> column. The ZTF names are seven letters
/// hashed from the key, as the simulator names its alerts' objects, so two objects can share one (26^7 names).</para>
/// <para><b>Rows:</b> stellar classes give a <c>star</c> at the star's position with its quiescent (mean) r
/// magnitude, NaN for novae, whose progenitors are not in the simulated template; supernovae and AGN give a
/// <c>galaxy</c> at their host's centre with the host's magnitude and half-light radius (the host lies
/// <c>HostEastArcsec</c>, <c>HostNorthArcsec</c> from the transient, as the cutouts draw it; AGN sit at their
/// host's centre); quasars give a point-like <c>qso</c> with their mean r magnitude. Redshift: supernovae draw a
/// peak magnitude and absolute peak, whose distance modulus sets z (flat ΛCDM, H0 = 70, Ωm = 0.3,
/// <c>ObjectFactory.Redshift</c>); the simulator gives AGN and quasars no distance, so their redshift is NaN.</para>
/// <para><b>Size:</b> every field of the grid holds its population whether or not a run observes it: the sum over
/// classes of (alerts wanted per visit) / (probability of alerting), in proportion to the alerts per night: 43,908
/// rows for ZTF's defaults (1,000 alerts a night), 46,046 for Rubin at 500 (docs/catalogs.md). Rows are made a few
/// fields at a time, in parallel on <see cref="SimulationOptions.Workers"/> threads, and streamed.</para>
/// </remarks>
public static class SimulatedSkyCatalog
{
    /// <summary>The extra columns of each row, in <see cref="CatalogRow.Extra"/> order.</summary>
    /// <remarks>
    /// <c>type</c>: <c>star</c>, <c>galaxy</c> or <c>qso</c>; <c>mag</c>: AB magnitude in r (the simulator's reference
    /// band; NaN when none); <c>redshift</c>: NaN when the simulator has none; <c>radius_arcsec</c>: a galaxy's
    /// half-light radius, 0 for point sources; <c>class</c>: the object's <see cref="ObjectClass"/> name;
    /// <c>key</c>: the simulator's object key (field id × 10^7 + slot).
    /// </remarks>
    public static readonly IReadOnlyList<string> Extra = ["type", "mag", "redshift", "radius_arcsec", "class", "key"];

    /// <summary>The columns to give <c>CatalogIndexBuilder.Build</c> with <see cref="Rows"/>: id, ra, dec and <see cref="Extra"/>.</summary>
    public static CatalogColumns Columns { get; } = new("id", "ra", "dec") { Extra = Extra };

    /// <summary>Fields drawn in parallel at a time (rows held in memory: a few fields' populations).</summary>
    private const int FieldsPerBatch = 16;

    /// <summary>
    /// Every source of the simulated sky for <paramref name="options"/> (positions ICRS degrees), streamed in a fixed
    /// order. Only the options that shape the populations matter (survey, seed, nights, alerts per night, start MJD,
    /// bogus fraction); cutouts and workers do not change the rows.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The options are out of range.</exception>
    public static IEnumerable<CatalogRow> Rows(SimulationOptions options, SimulatedSources sources = SimulatedSources.All)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return RowsLazily(options, sources);
    }

    private static IEnumerable<CatalogRow> RowsLazily(SimulationOptions options, SimulatedSources sources)
    {
        // No asteroids: they are not part of the fixed sky, and loading their orbits costs start-up time.
        var engine = new SimulationEngine(options, asteroids: []);
        var fields = engine.Survey.Fields;
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.Workers };
        var batch = new List<CatalogRow>[FieldsPerBatch];
        for (int start = 0; start < fields.Length; start += FieldsPerBatch)
        {
            int count = Math.Min(FieldsPerBatch, fields.Length - start);
            Parallel.For(0, count, parallel, i =>
            {
                var rows = new List<CatalogRow>();
                foreach (var o in engine.Population(fields[start + i]))
                    if (Row(o, options, sources) is { } row) rows.Add(row);
                batch[i] = rows;
            });
            for (int i = 0; i < count; i++)
            {
                foreach (var row in batch[i]) yield return row;
                batch[i] = null!;
            }
        }
    }

    /// <summary>The catalogue row of a simulated object, or null when <paramref name="sources"/> leaves its kind out.</summary>
    internal static CatalogRow? Row(SkyObject o, SimulationOptions options, SimulatedSources sources)
    {
        var id = options.Survey == SurveyKind.Ztf
            ? new CatalogId(0, ZtfPacketBuilder.ObjectId(o.Key, options.StartMjd))
            : new CatalogId(LsstPacketBuilder.DiaObjectId(o.Key), null);
        string cls = o.Class.ToString();
        if (o.Class.IsStellar())
        {
            if ((sources & SimulatedSources.Stars) == 0) return null;
            // A nova's template flux is zero (the progenitor is below the template's depth): no quiescent magnitude.
            double mag = o.Class == ObjectClass.Nova ? double.NaN : o.Parameters[0];
            return new CatalogRow(id, o.RaDeg, o.DecDeg, null, null, null, ["star", mag, double.NaN, 0.0, cls, o.Key]);
        }
        if ((sources & SimulatedSources.Galaxies) == 0) return null;
        if (o.Class is ObjectClass.QSO or ObjectClass.Blazar)
            return new CatalogRow(id, o.RaDeg, o.DecDeg, null, null, null, ["qso", o.Parameters[0], double.NaN, 0.0, cls, o.Key]);
        // Supernovae (Parameters[4] is z) and AGN (no redshift; zero host offset). The cutouts place the host at
        // (HostEastArcsec, HostNorthArcsec) from the object, east toward increasing RA.
        double z = o.Class is ObjectClass.SNIa or ObjectClass.SNIbc or ObjectClass.SNII or ObjectClass.SLSN ? o.Parameters[4] : double.NaN;
        var (ra, dec) = Coordinates.Offset(o.RaDeg, o.DecDeg, o.HostEastArcsec, o.HostNorthArcsec);
        return new CatalogRow(id, ra, dec, null, null, null, ["galaxy", o.HostMag, z, o.HostRadiusArcsec, cls, o.Key]);
    }
}
