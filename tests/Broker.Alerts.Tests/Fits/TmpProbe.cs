using Broker.Alerts.Fits;
using Xunit.Abstractions;
namespace Broker.Alerts.Tests.Fits;
public sealed class TmpProbe(ITestOutputHelper o)
{
    [Fact]
    public void Probe()
    {
        var good = FitsTestBytes.PrimaryImage(-32, 63, 63, FitsTestBytes.Encode(-32, new double[63 * 63]));
        var gz = FitsTestBytes.Gzip(good);
        foreach (int cut in new[] { gz.Length / 2, gz.Length - 4, gz.Length - 8, 10 })
        {
            try { FitsFile.Read(gz.AsSpan(0, cut)); o.WriteLine($"{cut}: ok"); }
            catch (Exception e) { o.WriteLine($"{cut}: {e.GetType().Name}: {e.Message} / {e.InnerException?.Message}"); }
        }
    }
}
