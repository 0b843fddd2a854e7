using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using Broker.Alerts.Avro;

namespace Broker.Cli.Commands;

/// <summary><c>broker decode</c>: prints every alert as one JSON object per line.</summary>
internal static class DecodeCommand
{
    public static Command Create()
    {
        var inputs = new AlertInputOptions();
        var pretty = new Option<bool>("--pretty") { Description = "Indent the JSON (one object per several lines)." };
        var command = new Command("decode", "Decode alert files (Avro containers, .tar.gz bundles, Confluent-framed messages) and print one JSON object per alert. " +
            "Records are objects, unions their bare value, bytes base64, floats round-trip, NaN and infinities the strings \"NaN\", \"Infinity\", \"-Infinity\". " +
            "Problems go to standard error, one line each naming the file; the exit code is 1 when any input failed.");
        inputs.AddTo(command);
        command.Options.Add(pretty);
        command.SetAction((parse, ct) => CliRun.Guard(() =>
        {
            var reader = inputs.CreateReader(parse);
            var options = new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true, Indented = parse.GetValue(pretty) };
            using var stdout = new BufferedStream(Console.OpenStandardOutput(), 1 << 16);
            using var json = new Utf8JsonWriter(stdout, options);
            int ok = 0, failed = 0;
            foreach (var item in reader.Read(parse.GetValue(inputs.Paths)!))
            {
                ct.ThrowIfCancellationRequested();
                if (item.Record is null)
                {
                    failed++;
                    json.Flush();
                    stdout.Flush();
                    AlertInputOptions.ReportBadInput(item.Source, item.Error!);
                    continue;
                }
                AvroJson.Write(json, item.Record, item.Record.Schema);
                json.Flush();
                json.Reset();
                stdout.WriteByte((byte)'\n');
                ok++;
            }
            stdout.Flush();
            if (failed > 0) Console.Error.WriteLine($"decoded {ok} alerts; {failed} inputs failed");
            return failed > 0 ? 1 : 0;
        }));
        return command;
    }
}
