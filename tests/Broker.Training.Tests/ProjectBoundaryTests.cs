using System.Xml.Linq;
using Broker.TestSupport;

namespace Broker.Training.Tests;

/// <summary>Only the training program (and its tests) load libtorch: no service and not the CLI reference TorchSharp or Broker.Training.</summary>
public sealed class ProjectBoundaryTests
{
    [Fact]
    public void No_service_or_the_cli_references_torchsharp_or_the_training_project()
    {
        var services = System.IO.Directory.GetFiles(SharedData.RepositoryPath("services"), "*.csproj", SearchOption.AllDirectories);
        Assert.Contains(services, p => p.EndsWith("Broker.Training.csproj", StringComparison.Ordinal));
        foreach (var project in services.Where(p => !p.EndsWith("Broker.Training.csproj", StringComparison.Ordinal)))
        {
            var doc = XDocument.Load(project);
            var references = doc.Descendants().Where(e => e.Name.LocalName is "PackageReference" or "ProjectReference").Select(e => (string?)e.Attribute("Include") ?? "").ToList();
            Assert.DoesNotContain(references, r => r.Contains("TorchSharp", StringComparison.OrdinalIgnoreCase) || r.Contains("libtorch", StringComparison.OrdinalIgnoreCase) || r.Contains("Broker.Training", StringComparison.Ordinal));
        }
    }
}
