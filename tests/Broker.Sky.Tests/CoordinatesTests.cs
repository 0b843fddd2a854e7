namespace Broker.Sky.Tests;

/// <summary>Broker.Sky's coordinates and the Sun against published worked examples.</summary>
public sealed class CoordinatesTests
{
    [Theory]
    // Meeus, Astronomical Algorithms (2nd ed.), example 12.a: 1987 April 10, 0h UT, GMST 13h10m46.3668s.
    [InlineData(2446895.5, 13, 10, 46.3668)]
    // Example 12.b: 1987 April 10, 19h21m00s UT, GMST 8h34m57.0896s.
    [InlineData(2446896.30625, 8, 34, 57.0896)]
    public void Greenwich_mean_sidereal_time_matches_meeus_examples(double jdUt, int hours, int minutes, double seconds)
    {
        double expected = (hours + minutes / 60.0 + seconds / 3600.0) * 15.0;
        // 1e-5 degrees is 2.4 ms of time.
        Assert.Equal(expected, Coordinates.GreenwichMeanSiderealTimeDeg(jdUt), 1e-5);
    }

    [Theory]
    // The Galactic north pole and centre in ICRS (Hipparcos, ESA SP-1200 vol. 1, section 1.5.3): b = 90; l = b = 0.
    [InlineData(192.85948, 27.12825, double.NaN, 90.0)]
    [InlineData(266.40499, -28.93617, 0.0, 0.0)]
    public void The_galactic_pole_and_centre_are_where_hipparcos_defines_them(double ra, double dec, double l, double b)
    {
        var (lDeg, bDeg) = Coordinates.EquatorialToGalactic(ra, dec);
        Assert.Equal(b, bDeg, 1e-4);
        if (!double.IsNaN(l)) Assert.True(Math.Min(Math.Abs(lDeg - l), 360 - Math.Abs(lDeg - l)) < 1e-4, $"l = {lDeg}");
    }

    [Fact]
    public void The_sun_matches_meeus_example_25a_within_the_almanacs_precision()
    {
        // Meeus example 25.a: 1992 October 13.0 TD, apparent RA 198.38083, Dec -7.78507, R 0.99766 au. The Almanac's
        // low-precision formulae promise 0.01 degrees.
        var (ra, dec, r) = SolarPosition.Equatorial(2448908.5);
        Assert.Equal(198.38083, ra, 0.01);
        Assert.Equal(-7.78507, dec, 0.01);
        Assert.Equal(0.99766, r, 2e-4);
    }

    [Theory]
    [InlineData(10.0, 20.0)]
    [InlineData(359.9, -60.0)]
    [InlineData(180.0, 0.0)]
    public void Horizontal_coordinates_convert_back_to_the_same_equatorial_ones(double ra, double dec)
    {
        double jd = 2460000.25;
        var (alt, az) = Coordinates.EquatorialToHorizontal(ra, dec, jd, ObservatorySite.CerroPachon);
        var (ra2, dec2) = Coordinates.HorizontalToEquatorial(alt, az, jd, ObservatorySite.CerroPachon);
        Assert.True(Coordinates.SeparationDeg(ra, dec, ra2, dec2) < 1e-9, $"({ra}, {dec}) came back as ({ra2}, {dec2})");
    }

    [Fact]
    public void Separations_are_exact_at_tiny_angles_across_ra_zero_and_at_the_antipode()
    {
        // One milliarcsecond across RA 0/360 on the equator.
        double half = 0.5e-3 / 3600;
        Assert.Equal(1e-3 / 3600, Coordinates.SeparationDeg(360 - half, 0, half, 0), 1e-12);
        Assert.Equal(180.0, Coordinates.SeparationDeg(10, 20, 190, -20), 1e-9);
        // Near the pole, 180 degrees of RA apart is twice the distance to the pole.
        Assert.Equal(2e-4, Coordinates.SeparationDeg(0, 90 - 1e-4, 180, 90 - 1e-4), 1e-12);
    }

    [Fact]
    public void An_offset_east_and_north_lands_at_the_separation_asked_for()
    {
        var (ra, dec) = Coordinates.Offset(150.0, 2.0, 3.0, 4.0);
        Assert.Equal(5.0, Coordinates.SeparationDeg(150.0, 2.0, ra, dec) * 3600, 1e-6);
        Assert.True(ra > 150.0 && dec > 2.0);
    }
}
