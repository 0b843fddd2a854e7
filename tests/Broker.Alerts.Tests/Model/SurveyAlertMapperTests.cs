using Broker.Alerts.IO;
using Broker.Alerts.Model;
using Broker.Sky;
using Broker.TestSupport;

namespace Broker.Alerts.Tests.Model;

public sealed class SurveyAlertMapperTests
{
    [Theory]
    [InlineData(31.4, 1.0)]
    [InlineData(23.9, 1000.0)]
    [InlineData(16.4, 1e6)]
    public void Ab_magnitudes_convert_to_nanojansky_with_zero_point_31_4(double mag, double nJy)
    {
        Assert.Equal(nJy, Photometry.MagToFlux(mag), nJy * 1e-12);
        Assert.Equal(mag, Photometry.FluxToMag(nJy), 1e-12);
        Assert.Equal(mag, Photometry.FluxToMag(-nJy), 1e-12);
    }

    [Fact]
    public void A_zero_or_non_finite_flux_has_no_magnitude() =>
        Assert.All(new[] { 0.0, double.NaN, double.PositiveInfinity }, f => Assert.True(double.IsNaN(Photometry.FluxToMag(f))));

    [OracleFact]
    public void A_ztf_alert_maps_its_ids_time_band_photometry_history_and_cutouts()
    {
        // ZTF18abudxnw (boom sample): schema 4.02 with 10 forced-photometry points.
        var record = new AlertFileReader().ReadFile(SharedData.Path("ztf/alerts/boom/2695378462115010012.v4_02.avro")).Single().Record!;
        var alert = SurveyAlertMapper.Map(record);
        var candidate = (Broker.Alerts.Avro.AvroRecord)record["candidate"]!;
        Assert.Equal(Survey.Ztf, alert.Survey);
        Assert.Equal(2695378462115010012, alert.AlertId);
        Assert.Equal("ZTF18abudxnw", alert.ObjectId);
        Assert.Equal((double)candidate["ra"]!, alert.Ra);
        Assert.Equal(TimeScales.JdUtcToMjdTai((double)candidate["jd"]!), alert.MjdTai);
        Assert.Equal(new[] { "g", "r", "i" }[(int)candidate["fid"]! - 1], alert.Band);
        Assert.Equal((double)(float)candidate["magpsf"]!, alert.Mag!.Value, 1e-9);
        Assert.Equal(10, alert.ForcedPhotometry.Count);
        Assert.Equal("fits.gz", alert.Cutouts!.Format);
        Assert.Equal(candidate["sgscore1"] is float f ? f : double.NaN, (double)alert.SurveyFields["candidate.sgscore1"]!, 1e-9);
        Assert.True(alert.Detections.Zip(alert.Detections.Skip(1)).All(p => p.First.MjdTai <= p.Second.MjdTai), "history is oldest first");
    }

    [OracleFact]
    public void A_broker_record_yields_the_same_id_and_cutouts_as_the_survey_record_it_came_from()
    {
        var record = new AlertFileReader().ReadFile(SharedData.Path("ztf/alerts/boom/2695378462115010012.v4_02.avro")).Single().Record!;
        var broker = BrokerAlertCodec.ToRecord(SurveyAlertMapper.Map(record));
        Assert.Equal(SurveyAlertMapper.AlertIdOf(record), SurveyAlertMapper.AlertIdOf(broker));
        var fromSurvey = SurveyAlertMapper.CutoutsOf(record).ToList();
        var fromBroker = SurveyAlertMapper.CutoutsOf(broker).ToList();
        Assert.Equal(3, fromBroker.Count);
        Assert.Equal(fromSurvey.Select(c => c.Kind), fromBroker.Select(c => c.Kind));
        Assert.All(fromSurvey.Zip(fromBroker), p => Assert.Equal(p.First.Bytes, p.Second.Bytes));
    }

    [Theory]
    [InlineData(400.0, 10.0, 60000.0, "ra")]
    [InlineData(10.0, -91.0, 60000.0, "dec")]
    [InlineData(10.0, 10.0, double.NaN, "time")]
    [InlineData(double.NaN, 10.0, 60000.0, "ra")]
    public void Impossible_coordinates_and_times_are_rejected_naming_the_field(double ra, double dec, double mjd, string field)
    {
        var e = Assert.Throws<AlertValidationException>(() => SurveyAlertMapper.Validate(new Alert { AlertId = 7, Ra = ra, Dec = dec, MjdTai = mjd }));
        Assert.Contains(field, e.Message);
    }
}
