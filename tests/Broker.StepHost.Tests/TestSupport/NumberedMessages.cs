using System.Globalization;
using Broker.Alerts.IO;

namespace Broker.StepHost.Tests.TestSupport;

/// <summary>The in-process tests' input: numbered messages that <see cref="ParseStep"/> reads.</summary>
internal static class NumberedMessages
{
    /// <summary>
    /// Messages 0..<paramref name="count"/>-1 from <paramref name="source"/>, keyed by their number i: the one byte
    /// 100 + i % 100, which parses to 0..99, except that every 17th (i % 17 == 5) is empty, a dead letter. Cancels
    /// <paramref name="stop"/> just before message <paramref name="stopAt"/>, as an interrupt during a run would.
    /// </summary>
    public static async IAsyncEnumerable<SourceMessage> Read(string source, int count, CancellationTokenSource? stop = null, int stopAt = -1)
    {
        for (int i = 0; i < count; i++)
        {
            if (i == stopAt) stop?.Cancel();
            yield return new SourceMessage(source, i, i % 17 == 5 ? [] : [(byte)(100 + i % 100)], i.ToString(CultureInfo.InvariantCulture));
            await Task.Yield();
        }
    }
}
