using System.CommandLine;
using Broker.Alerts.Fits;
using Broker.Alerts.Model;

namespace Broker.Cli.Commands;

/// <summary><c>broker stamps</c>: writes every cutout as a NumPy .npy file and/or a PNG image.</summary>
internal static class StampsCommand
{
    public static Command Create()
    {
        var inputs = new AlertInputOptions();
        var npy = new Option<string?>("--npy") { Description = "Write <candid or diaSourceId>_<science|template|difference>.npy (float32, rows x columns as in the FITS image, NaN kept) here." };
        var png = new Option<string?>("--png") { Description = "Write each cutout as a viewable PNG here." };
        var stretch = new Option<PngStretch>("--stretch") { Description = "PNG intensity stretch: ZScale (IRAF zscale limits) or Asinh.", DefaultValueFactory = _ => PngStretch.ZScale };
        var scale = new Option<int>("--scale") { Description = "PNG upscaling factor (nearest neighbour).", DefaultValueFactory = _ => 4 };
        var command = new Command("stamps", "Extract alert cutouts (ZTF gzipped FITS, Rubin FITS) as NumPy .npy arrays and/or PNG images.");
        inputs.AddTo(command);
        command.Options.Add(npy);
        command.Options.Add(png);
        command.Options.Add(stretch);
        command.Options.Add(scale);
        command.SetAction((parse, ct) => CliRun.Guard(() =>
        {
            string? npyDir = parse.GetValue(npy), pngDir = parse.GetValue(png);
            if (npyDir is null && pngDir is null) throw new CliUsageException("give --npy DIR and/or --png DIR");
            if (parse.GetValue(scale) is < 1 or > 64) throw new CliUsageException("--scale must be between 1 and 64");
            if (npyDir is not null) Directory.CreateDirectory(npyDir);
            if (pngDir is not null) Directory.CreateDirectory(pngDir);
            var pngOptions = new PngOptions { Stretch = parse.GetValue(stretch), Scale = parse.GetValue(scale) };
            var reader = inputs.CreateReader(parse);
            int written = 0, failed = 0;
            foreach (var item in reader.Read(parse.GetValue(inputs.Paths)!))
            {
                ct.ThrowIfCancellationRequested();
                if (item.Record is null)
                {
                    failed++;
                    AlertInputOptions.ReportBadInput(item.Source, item.Error!);
                    continue;
                }
                long id;
                try
                {
                    id = SurveyAlertMapper.AlertIdOf(item.Record);
                }
                catch (FormatException e)
                {
                    // AlertValidationException, or a record of another shape than an alert's.
                    failed++;
                    AlertInputOptions.ReportBadInput(item.Source, $"record {item.Index}: {e.Message}");
                    continue;
                }
                foreach (var (kind, bytes) in SurveyAlertMapper.CutoutsOf(item.Record))
                {
                    FitsImage image;
                    try
                    {
                        image = FitsFile.ReadFirstImage(bytes);
                    }
                    catch (FitsFormatException e)
                    {
                        failed++;
                        AlertInputOptions.ReportBadInput(item.Source, $"record {item.Index} (alert {id}): cutout {kind}: {e.Message}");
                        continue;
                    }
                    string name = $"{id}_{kind}";
                    if (npyDir is not null)
                    {
                        using var f = File.Create(Path.Combine(npyDir, name + ".npy"));
                        NpyWriter.Write(f, image);
                    }
                    if (pngDir is not null)
                    {
                        using var f = File.Create(Path.Combine(pngDir, name + ".png"));
                        PngWriter.Write(f, image, pngOptions);
                    }
                    written++;
                }
            }
            Console.Error.WriteLine($"wrote {written} cutouts" + (failed > 0 ? $"; {failed} failed" : ""));
            return failed > 0 ? 1 : 0;
        }));
        return command;
    }
}
