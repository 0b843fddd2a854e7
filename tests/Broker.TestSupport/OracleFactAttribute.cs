namespace Broker.TestSupport;

/// <summary>
/// A fact that needs a reference tool: it is skipped, with the reason, when <c>/usr/bin/python3</c> cannot import
/// the given modules or (unless <see cref="NeedsSharedData"/> is false) the shared test data is missing. With no
/// modules it needs only the shared data, not Python.
/// </summary>
/// <example><c>[OracleFact("avro", "astropy")]</c>, <c>[OracleFact]</c> (shared data only)</example>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class OracleFactAttribute(params string[] modules) : FactAttribute
{
    /// <summary>The Python modules the oracle imports.</summary>
    public string[] Modules { get; } = modules;

    /// <summary>Whether the test reads <c>shared/data</c>; true by default.</summary>
    public bool NeedsSharedData { get; set; } = true;

    /// <inheritdoc/>
    public override string Skip
    {
        get => base.Skip ?? OracleRequirements.WhySkip(Modules, NeedsSharedData)!;
        set => base.Skip = value;
    }
}

/// <summary>The theory counterpart of <see cref="OracleFactAttribute"/>.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class OracleTheoryAttribute(params string[] modules) : TheoryAttribute
{
    /// <summary>The Python modules the oracle imports.</summary>
    public string[] Modules { get; } = modules;

    /// <summary>Whether the test reads <c>shared/data</c>; true by default.</summary>
    public bool NeedsSharedData { get; set; } = true;

    /// <inheritdoc/>
    public override string Skip
    {
        get => base.Skip ?? OracleRequirements.WhySkip(Modules, NeedsSharedData)!;
        set => base.Skip = value;
    }
}

/// <summary>Why an oracle test cannot run here, or null when it can.</summary>
public static class OracleRequirements
{
    /// <summary>Null when the modules import (no modules: Python is not needed) and, if needed, the shared data exists; otherwise the skip reason.</summary>
    public static string? WhySkip(string[] modules, bool needsSharedData)
    {
        if (needsSharedData && !SharedData.Exists)
            return "oracle test skipped: shared test data (<repo>/../shared/data or BROKER_SHARED_DATA) not found";
        if (modules.Length == 0) return null;
        string? python = Python.WhyUnavailable(modules);
        return python is null ? null : "oracle test skipped: " + python;
    }
}
