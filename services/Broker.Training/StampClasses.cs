using Broker.Simulation;

namespace Broker.Training;

/// <summary>
/// ALeRCE's five stamp classes (Carrasco-Davis et al. 2021, taxonomy "alerce-stamp-2020"), in the order of the
/// network's outputs, and the simulator's classes mapped onto them.
/// </summary>
public static class StampClasses
{
    /// <summary>The classes in output order.</summary>
    public static readonly string[] Names = ["AGN", "SN", "VS", "asteroid", "bogus"];

    /// <summary>How many.</summary>
    public const int Count = 5;

    /// <summary>The index of "asteroid".</summary>
    public const int Asteroid = 3;

    /// <summary>The index of "bogus".</summary>
    public const int Bogus = 4;

    /// <summary>
    /// The stamp class of a simulated object: AGN and QSO are AGN (ALeRCE's stamp AGN class holds both); the four
    /// supernova types are SN; the eight kinds of Galactic variable (CVs and novae included, as ALeRCE's VS class
    /// holds them) are VS; blazars (point-like, AGN-like) are AGN and other periodic variables VS (neither is in the stream's mix); known asteroids are asteroid; every artefact kind is bogus.
    /// </summary>
    public static int Of(ObjectClass c) => c switch
    {
        ObjectClass.AGN or ObjectClass.QSO or ObjectClass.Blazar => 0,
        ObjectClass.SNIa or ObjectClass.SNIbc or ObjectClass.SNII or ObjectClass.SLSN => 1,
        ObjectClass.RRLyrae or ObjectClass.Cepheid or ObjectClass.DeltaScuti or ObjectClass.EclipsingBinary or ObjectClass.LPV
            or ObjectClass.CV or ObjectClass.Nova or ObjectClass.YSO or ObjectClass.PeriodicOther => 2,
        ObjectClass.Asteroid => Asteroid,
        _ when c.IsBogus() => Bogus,
        _ => throw new ArgumentOutOfRangeException(nameof(c), c, "no stamp class for this simulated class"),
    };
}
