using System.CommandLine;

namespace Broker.Cli.Commands;

/// <summary>Every verb of the <c>broker</c> command, in the order <c>--help</c> lists them.</summary>
internal static class BrokerCommands
{
    public static IEnumerable<Command> All()
    {
        yield return DemoCommand.Create();
        yield return TestCommand.Create();
        yield return DecodeCommand.Create();
        yield return StampsCommand.Create();
    }
}
