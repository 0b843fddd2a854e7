using Broker.TestSupport;

namespace Broker.StepHost.Tests;

/// <summary>The start-up check of a step's files against their manifest: each refusal is one line naming the file, the manifest and both values.</summary>
public sealed class FileVerifierTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("broker-verifier");

    public void Dispose() => _dir.Delete(recursive: true);

    /// <summary>The real braai model and the SHA-256 and size ../shared/data/MANIFEST.tsv gives it.</summary>
    private static (string Path, string Sha256, long Bytes) Braai()
    {
        const string Relative = "labeled/models/braai_d6_m7/braai_d6_m7.onnx";
        var row = File.ReadLines(SharedData.Path("MANIFEST.tsv")).Select(l => l.Split('\t')).Single(c => c[0] == Relative);
        return (SharedData.Path(Relative), row[2], long.Parse(row[1], System.Globalization.CultureInfo.InvariantCulture));
    }

    private string Manifest(string json)
    {
        string path = Path.Combine(_dir.FullName, "manifest.json");
        File.WriteAllText(path, json);
        return path;
    }

    [Fact]
    public void A_file_that_matches_its_manifest_is_accepted_with_its_hash_and_size()
    {
        var (model, sha256, bytes) = Braai();
        string manifest = Manifest($$"""{"file": "{{model}}", "sha256": "{{sha256.ToUpperInvariant()}}", "bytes": {{bytes}}, "classes": ["bogus", "real"]}""");
        var file = Assert.Single(FileVerifier.VerifyManifest(manifest, "model file"));
        Assert.Equal(new VerifiedFile(model, sha256, bytes), file);
        Assert.Equal(file, FileVerifier.Verify(model, sha256, bytes, "model file"));
    }

    [Fact]
    public void A_missing_file_is_refused_in_one_line_naming_it_and_its_manifest()
    {
        string manifest = Manifest($$"""{"file": "model.onnx", "sha256": "{{new string('a', 64)}}"}""");
        var ex = Assert.Throws<StepHostConfigurationException>(() => FileVerifier.VerifyManifest(manifest, "model file"));
        Assert.Equal($"model file '{Path.Combine(_dir.FullName, "model.onnx")}' does not exist (named by manifest '{manifest}')", ex.Message);
    }

    [Fact]
    public void A_file_with_another_hash_is_refused_in_one_line_giving_both_hashes()
    {
        var (model, sha256, _) = Braai();
        string copy = Path.Combine(_dir.FullName, "model.onnx");
        var bytes = File.ReadAllBytes(model);
        bytes[^1] ^= 1;
        File.WriteAllBytes(copy, bytes);
        string actual = FileVerifier.Sha256(copy);
        string manifest = Manifest($$"""{"file": "model.onnx", "sha256": "{{sha256}}"}""");
        var ex = Assert.Throws<StepHostConfigurationException>(() => FileVerifier.VerifyManifest(manifest, "model file"));
        Assert.Equal($"model file '{copy}' does not match its manifest '{manifest}': sha256 {actual}, expected {sha256}", ex.Message);
        Assert.DoesNotContain('\n', ex.Message);
        var direct = Assert.Throws<StepHostConfigurationException>(() => FileVerifier.Verify(copy, sha256));
        Assert.Equal($"file '{copy}' does not match: sha256 {actual}, expected {sha256}", direct.Message);
    }

    [Fact]
    public void A_truncated_file_is_refused_by_its_size_before_it_is_read()
    {
        string copy = Path.Combine(_dir.FullName, "catalogue.bin");
        File.WriteAllBytes(copy, new byte[10]);
        string manifest = Manifest($$"""{"files": [{"file": "catalogue.bin", "sha256": "{{new string('0', 64)}}", "bytes": 11}]}""");
        var ex = Assert.Throws<StepHostConfigurationException>(() => FileVerifier.VerifyManifest(manifest, "catalogue file"));
        Assert.Equal($"catalogue file '{copy}' does not match its manifest '{manifest}': 10 bytes, expected 11", ex.Message);
    }

    [Fact]
    public void A_manifest_of_several_files_checks_each_in_order()
    {
        string a = Path.Combine(_dir.FullName, "a.bin"), b = Path.Combine(_dir.FullName, "b.bin");
        File.WriteAllText(a, "a");
        File.WriteAllText(b, "b");
        string manifest = Manifest($$"""{"files": [{"file": "a.bin", "sha256": "{{FileVerifier.Sha256(a)}}"}, {"file": "b.bin", "sha256": "{{FileVerifier.Sha256(b)}}"}]}""");
        Assert.Equal([a, b], FileVerifier.VerifyManifest(manifest).Select(f => f.Path));
    }

    [Theory]
    [InlineData(null, "manifest '{0}' does not exist")]
    [InlineData("not json", "manifest '{0}' is not valid: not JSON")]
    [InlineData("[1]", "manifest '{0}' is not valid: not a JSON object")]
    [InlineData("""{"sha256": "00"}""", "manifest '{0}' is not valid: the manifest names no \"file\"")]
    [InlineData("""{"file": "m.onnx"}""", "manifest '{0}' is not valid: the manifest gives no \"sha256\"")]
    [InlineData("""{"file": "m.onnx", "sha256": "xyz"}""", "manifest '{0}' is not valid: the manifest sha256 'xyz' is not 64 hexadecimal digits")]
    [InlineData("""{"files": []}""", "manifest '{0}' is not valid: \"files\" is not a non-empty array")]
    public void A_manifest_that_is_missing_or_not_valid_is_refused_in_one_line(string? json, string expected)
    {
        string manifest = json is null ? Path.Combine(_dir.FullName, "manifest.json") : Manifest(json);
        var ex = Assert.Throws<StepHostConfigurationException>(() => FileVerifier.VerifyManifest(manifest));
        Assert.StartsWith(string.Format(System.Globalization.CultureInfo.InvariantCulture, expected, manifest), ex.Message);
        Assert.DoesNotContain('\n', ex.Message);
    }
}
