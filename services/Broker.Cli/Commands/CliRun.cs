namespace Broker.Cli.Commands;

/// <summary>Runs a verb's body and turns usage errors into one clear line and exit code 2.</summary>
internal static class CliRun
{
    public static Task<int> Guard(Func<int> body)
    {
        try
        {
            return Task.FromResult(body());
        }
        catch (CliUsageException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return Task.FromResult(2);
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("cancelled");
            return Task.FromResult(130);
        }
    }

    public static async Task<int> GuardAsync(Func<Task<int>> body)
    {
        try
        {
            return await body();
        }
        catch (CliUsageException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 2;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("cancelled");
            return 130;
        }
    }
}
