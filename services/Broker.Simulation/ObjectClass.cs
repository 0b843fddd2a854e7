namespace Broker.Simulation;

/// <summary>The true class of a simulated alert, as written in truth.csv.</summary>
public enum ObjectClass
{
    /// <summary>Type Ia supernova.</summary>
    SNIa,
    /// <summary>Stripped-envelope supernova (Ib/c).</summary>
    SNIbc,
    /// <summary>Type II supernova (plateau).</summary>
    SNII,
    /// <summary>Superluminous supernova.</summary>
    SLSN,
    /// <summary>RR Lyrae star (RRab).</summary>
    RRLyrae,
    /// <summary>Classical Cepheid.</summary>
    Cepheid,
    /// <summary>Delta Scuti star.</summary>
    DeltaScuti,
    /// <summary>Eclipsing binary.</summary>
    EclipsingBinary,
    /// <summary>Long-period variable (Mira).</summary>
    LPV,
    /// <summary>Active galactic nucleus in a resolved host.</summary>
    AGN,
    /// <summary>Quasar (point-like).</summary>
    QSO,
    /// <summary>Cataclysmic variable (dwarf nova outbursts).</summary>
    CV,
    /// <summary>Classical nova.</summary>
    Nova,
    /// <summary>Young stellar object.</summary>
    YSO,
    /// <summary>Known asteroid.</summary>
    Asteroid,
    /// <summary>Bogus: cosmic-ray hit.</summary>
    BogusCosmicRay,
    /// <summary>Bogus: residual of a poor subtraction around a bright source.</summary>
    BogusBadSubtraction,
    /// <summary>Bogus: dipole from misregistration.</summary>
    BogusDipole,
    /// <summary>Bogus: hot pixel.</summary>
    BogusHotPixel,
    /// <summary>Bogus: optical ghost / reflection.</summary>
    BogusGhost,
    // The two below come after the artefacts so that every earlier value keeps its number (streams, truth files and
    // the stamp model's training data are unchanged); they are not in the stream's mix (SimulationEngine.AlertMix)
    // and appear only in labelled training sets (LabelledLightCurves).
    /// <summary>Blazar (BL Lac or flat-spectrum radio quasar): point-like, a fast large-amplitude damped random walk with flares.</summary>
    Blazar,
    /// <summary>Other periodic variable (rotational, ellipsoidal, semi-regular): ALeRCE's Periodic-Other class.</summary>
    PeriodicOther,
}

/// <summary>Helpers on <see cref="ObjectClass"/>.</summary>
public static class ObjectClassExtensions
{
    /// <summary>True for the artefact classes.</summary>
    public static bool IsBogus(this ObjectClass c) => c is >= ObjectClass.BogusCosmicRay and <= ObjectClass.BogusGhost;

    /// <summary>True for classes in a galaxy that shows in the stamps.</summary>
    public static bool HasHost(this ObjectClass c) => c is ObjectClass.SNIa or ObjectClass.SNIbc or ObjectClass.SNII or ObjectClass.SLSN or ObjectClass.AGN;

    /// <summary>True for stars of the Galaxy (variable classes).</summary>
    public static bool IsStellar(this ObjectClass c) =>
        c is ObjectClass.RRLyrae or ObjectClass.Cepheid or ObjectClass.DeltaScuti or ObjectClass.EclipsingBinary or ObjectClass.LPV
            or ObjectClass.CV or ObjectClass.Nova or ObjectClass.YSO or ObjectClass.PeriodicOther;

    /// <summary>True for the supernova classes (no template flux, a host galaxy).</summary>
    public static bool IsSupernova(this ObjectClass c) => c is ObjectClass.SNIa or ObjectClass.SNIbc or ObjectClass.SNII or ObjectClass.SLSN;
}
