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
        yield return SimulateCommand.Create();
        yield return RunCommand.Create();
        yield return DevKafkaCommand.Create();
        yield return UpCommand.Create();
        yield return ServeCommand.Create();
        yield return ReplayCommand.Create();
        yield return SubscribeCommand.Create();
        yield return CatalogCommands.Catalog();
        yield return CatalogCommands.Xmatch();
        yield return EphemCommand.Create();
        yield return OnnxCommand.Create();
        yield return TrainCommand.Create();
        yield return FilterCommands.Create();
    }
}
