namespace Broker.Sky.Tests;

public sealed class TimeScalesTests
{
    [Theory]
    // TAI-UTC from the IERS leap-second table: 10 s in 1972, 32 s from 1999, 37 s from 2017-01-01 (MJD 57754).
    [InlineData(41317.0, 10)]
    [InlineData(51179.0, 32)]
    [InlineData(57753.99, 36)]
    [InlineData(57754.0, 37)]
    [InlineData(60235.6, 37)]
    public void Tai_minus_utc_follows_the_leap_second_table(double mjdUtc, int seconds) =>
        Assert.Equal(seconds, TimeScales.TaiMinusUtcSeconds(mjdUtc));

    [Fact]
    public void A_ztf_utc_julian_date_becomes_mjd_tai_37_seconds_later()
    {
        double mjdTai = TimeScales.JdUtcToMjdTai(2460235.615);
        Assert.Equal(60235.115 + 37.0 / 86400.0, mjdTai, 1e-9);
        Assert.Equal(60235.115, TimeScales.MjdTaiToMjdUtc(mjdTai), 1e-9);
    }

    [Fact]
    public void Tt_is_tai_plus_32_184_seconds() =>
        Assert.Equal(60000.0 + 32.184 / 86400.0, TimeScales.MjdTaiToMjdTt(60000.0), 1e-12);

    [Fact]
    public void A_utc_date_time_and_its_mjd_convert_both_ways()
    {
        var t = new DateTime(2024, 3, 1, 6, 0, 0, DateTimeKind.Utc);
        // MJD 60370.25: 2024-03-01 is MJD 60370 (JD 2460370.5).
        Assert.Equal(60370.25, TimeScales.ToMjdUtc(t), 1e-9);
        Assert.Equal(t, TimeScales.FromMjdUtc(60370.25));
    }
}
