using Broker.Sky.Orbits;

namespace Broker.Sky.Tests;

/// <summary>
/// The MPC packed forms against the examples of the specifications: "Packed Provisional and Permanent Designations"
/// (minorplanetcenter.net/iau/info/PackedDes.html), "Packed Dates" (PackedDates.html), and the extended scheme's
/// examples listed at projectpluto.com/packed.htm.
/// </summary>
public sealed class OrbitDesignationsTests
{
    [Theory]
    [InlineData("J95X00A", "1995 XA")]
    [InlineData("J95X01L", "1995 XL1")]
    [InlineData("J95F13B", "1995 FB13")]
    [InlineData("J98SA8Q", "1998 SQ108")]
    [InlineData("J98SC7V", "1998 SV127")]
    [InlineData("J98SG2S", "1998 SS162")]
    [InlineData("K99AJ3Z", "2099 AZ193")]
    [InlineData("K08Aa0A", "2008 AA360")]
    [InlineData("K07Tf8A", "2007 TA418")]
    [InlineData("K04J12Q", "2004 JQ12")]
    [InlineData("K12Q64R", "2012 QR64")]
    [InlineData("PLS2040", "2040 P-L")]
    [InlineData("T1S3138", "3138 T-1")]
    [InlineData("T2S1010", "1010 T-2")]
    [InlineData("T3S4101", "4101 T-3")]
    [InlineData("_QC0000", "2026 CA620")]
    [InlineData("_QC0aEM", "2026 CZ6190")]
    [InlineData("_QCzzzz", "2026 CL591673")]
    [InlineData("_AH9fZ7", "2010 HJ92809")]
    public void Provisional_designations_pack_and_unpack_as_the_MPC_examples(string packed, string unpacked)
    {
        Assert.Equal(unpacked, Designations.UnpackProvisional(packed));
        Assert.Equal(packed, Designations.PackProvisional(unpacked));
    }

    [Theory]
    [InlineData("00433", 433)]
    [InlineData("00001", 1)]
    [InlineData("A0345", 100345)]
    [InlineData("G4060", 164060)]
    [InlineData("n1415", 491415)]
    [InlineData("z9999", 619999)]
    [InlineData("~0000", 620000)]
    [InlineData("~000a", 620036)]
    [InlineData("~AZaz", 3140113)]
    [InlineData("~zzzz", 15396335)]
    public void Permanent_numbers_pack_and_unpack_including_the_tilde_form(string packed, int number)
    {
        Assert.Equal(number, Designations.UnpackNumber(packed));
        Assert.Equal(packed, Designations.PackNumber(number));
    }

    [Theory]
    [InlineData("J95A010", "1995 A1")]
    [InlineData("J94P01b", "1994 P1-B")]
    [InlineData("J94P010", "1994 P1")]
    [InlineData("K48X130", "2048 X13")]
    [InlineData("K33L89c", "2033 L89-C")]
    [InlineData("K88AA30", "2088 A103")]
    [InlineData("CJ95O010", "C/1995 O1")]
    [InlineData("PK04D29O", "P/2004 DO29")]
    [InlineData("0041P", "41P")]
    [InlineData("0001P", "1P")]
    public void Comet_designations_pack_and_unpack_as_the_MPC_examples(string packed, string unpacked)
    {
        Assert.Equal(unpacked, Designations.UnpackComet(packed));
        Assert.Equal(packed, Designations.PackComet(unpacked));
    }

    [Theory]
    [InlineData("    CJ95O010", "C/1995 O1")]
    [InlineData("0001P       ", "1P")]
    [InlineData("3141P      e", "3141P-E")]
    [InlineData("3141P     az", "3141P-AZ")]
    public void Twelve_character_comet_designations_unpack(string packed, string unpacked) =>
        Assert.Equal(unpacked, Designations.UnpackComet(packed));

    [Theory]
    [InlineData("J9611", 1996, 1, 1, 0.0)]
    [InlineData("J961A", 1996, 1, 10, 0.0)]
    [InlineData("J969U", 1996, 9, 30, 0.0)]
    [InlineData("J96A1", 1996, 10, 1, 0.0)]
    [InlineData("K01AM", 2001, 10, 22, 0.0)]
    [InlineData("K2485", 2024, 8, 5, 0.0)]
    [InlineData("J981I73", 1998, 1, 18, 0.73)]
    [InlineData("K01AM138303", 2001, 10, 22, 0.138303)]
    public void Packed_dates_unpack_as_the_MPC_examples(string packed, int year, int month, int day, double fraction)
    {
        Assert.True(Designations.TryUnpackDate(packed, out var date, out double f));
        Assert.Equal(new DateOnly(year, month, day), date);
        Assert.Equal(fraction, f, 12);
        if (packed.Length == 5) Assert.Equal(packed, Designations.PackDate(date));
        // MJD counts days from 1858 November 17 (MJD = JD - 2400000.5).
        double expected = new DateTime(year, month, day, 0, 0, 0, DateTimeKind.Utc).Subtract(new DateTime(1858, 11, 17, 0, 0, 0, DateTimeKind.Utc)).TotalDays + fraction;
        Assert.Equal(expected, Designations.PackedDateToMjd(packed), 9);
    }

    [Fact]
    public void Known_epochs_give_their_julian_dates()
    {
        // J2000.0's date 2000 January 1 is JD 2451544.5 at 0h (Explanatory Supplement 3rd ed., Table 15.1 epoch).
        Assert.Equal(2451544.5 - 2400000.5, Designations.PackedDateToMjd("K0011"));
        // The SBDB epoch of kstars' asteroids.dat, MJD 59800, is 2022 August 9.
        Assert.Equal(59800, Designations.PackedDateToMjd("K2289"));
    }

    [Theory]
    [InlineData("K04J1")]
    [InlineData("K04J12")]
    [InlineData("X04I12Q")]
    [InlineData("K04Z12Q")]
    [InlineData("K04J12I")]
    [InlineData("")]
    public void Malformed_packed_provisional_designations_are_refused(string packed)
    {
        Assert.False(Designations.TryUnpackProvisional(packed, out _));
        Assert.Throws<FormatException>(() => Designations.UnpackProvisional(packed));
    }

    [Theory]
    [InlineData("K24D5")] // month 13
    [InlineData("K2420")] // day 0
    [InlineData("K242U")] // February 30
    [InlineData("K2485x")]
    public void Malformed_packed_dates_are_refused(string packed)
    {
        Assert.False(Designations.TryUnpackDate(packed, out _, out _));
        Assert.Throws<FormatException>(() => Designations.PackedDateToMjd(packed));
    }

    [Theory]
    // One object, as ZTF (ssnamenr), Rubin (designation), MPC (packed) and JPL SBDB (full_name) write it.
    [InlineData("2012QR64", "2012 QR64", "K12Q64R", "(2012 QR64)")]
    [InlineData("2004JQ12", "2004 JQ12", "K04J12Q", "       (2004 JQ12)")]
    [InlineData("1", "1", "00001", "     1 Ceres (A801 AA)")]
    [InlineData("2387", "2387", "02387", "  2387 Xi'an (1975 FX)")]
    [InlineData("157", "157", "00157", "   157 Dejanira (A875 XA)")]
    [InlineData("100345", "100345", "A0345", "100345")]
    [InlineData("594913", "594913", "x4913", "594913 'Aylo'chaxnim (2020 AV2)")]
    [InlineData("2015BZ517", "2015 BZ517", "K15Bp7Z", "       (2015 BZ517)")]
    [InlineData("1995XA", "1995 XA", "J95X00A", "(1995 XA)")]
    [InlineData("2040P-L", "2040 P-L", "PLS2040", "(2040 P-L)")]
    public void Keys_of_the_forms_each_survey_writes_are_equal(string ztf, string rubin, string mpcPacked, string sbdbFullName)
    {
        string key = Designations.Key(rubin);
        Assert.Equal(key, Designations.Key(ztf));
        Assert.Equal(key, Designations.Key(mpcPacked));
        Assert.Equal(key, Designations.Key(sbdbFullName));
    }

    [Fact]
    public void The_tilde_form_and_a_full_name_with_its_number_agree()
    {
        Assert.Equal(Designations.Key("620000"), Designations.Key("~0000"));
        Assert.Equal(Designations.Key("620000 (2020 AV2)"), Designations.Key("~0000"));
    }

    [Theory]
    [InlineData("1P/Halley", "1P", "0001P")]
    [InlineData("C/1995 O1 (Hale-Bopp)", "C/1995 O1", "CJ95O010")]
    [InlineData("P/2004 DO29 (Spacewatch-LINEAR)", "P/2004 DO29", "PK04D29O")]
    [InlineData("2I/Borisov", "2I", "0002I")]
    public void Comet_names_and_packed_forms_give_one_key(string name, string designation, string packed)
    {
        Assert.Equal(designation, Designations.Key(name));
        Assert.Equal(designation, Designations.Key(designation));
        Assert.Equal(designation, Designations.Key(packed));
    }

    [Fact]
    public void Different_objects_have_different_keys()
    {
        Assert.NotEqual(Designations.Key("2004 JQ12"), Designations.Key("2004 JQ1"));
        Assert.NotEqual(Designations.Key("1"), Designations.Key("10"));
        Assert.NotEqual(Designations.Key("2012 QR64"), Designations.Key("2012 RQ64"));
        Assert.NotEqual(Designations.Key("1P"), Designations.Key("1"));
        Assert.Equal("", Designations.Key("  "));
        Assert.Equal("", Designations.Key(null));
    }

    [Fact]
    public void A_numbered_orbit_matches_a_survey_that_writes_its_provisional_designation()
    {
        var elements = new CometaryElements(1.95, 0.29, 7.5, 205, 103, 61733, 61000);
        var orbit = new SolarSystemOrbit("217301", "217301 (2004 JQ12)", elements, 16.45, 0.15, "test");
        Assert.Equal(["217301", "2004 JQ12"], Designations.Keys(orbit.Name));
        Assert.True(Designations.SameObject(orbit, "2004 JQ12"));
        Assert.True(Designations.SameObject(orbit, "2004JQ12"));
        Assert.True(Designations.SameObject(orbit, "217301"));
        Assert.False(Designations.SameObject(orbit, "2004 JQ13"));
        Assert.False(Designations.SameObject(orbit, "null"));
    }

    [Theory]
    [InlineData("     1 Ceres (A801 AA)", "1")]
    [InlineData("(2012 QR64)", "2012QR64")]
    [InlineData("2004 JQ12", "2004JQ12")]
    public void The_ztf_form_is_the_number_or_the_provisional_designation_without_its_space(string name, string ztf) =>
        Assert.Equal(ztf, Designations.ZtfForm(name));
}
