using Broker.TestSupport;

namespace Broker.Onnx.Tests;

/// <summary>NpyArray against numpy itself: what numpy writes Broker reads, what Broker writes numpy reads.</summary>
public sealed class NpyArrayTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("broker-npy").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string File(string name) => Path.Combine(_dir, name);

    [OracleFact("numpy", NeedsSharedData = false)]
    public void Numpy_files_of_versions_1_and_2_in_f4_and_f8_read_and_broker_files_read_back_in_numpy()
    {
        Python.RunCode("""
            import sys, numpy as np
            from numpy.lib import format as f
            d = sys.argv[1]
            a = np.arange(24, dtype='<f8').reshape(2, 3, 4) / 7
            np.save(d + '/f8.npy', a)
            np.save(d + '/f4.npy', a.astype('<f4'))
            np.save(d + '/vec.npy', np.array([1.5, -2], dtype='<f4'))
            np.save(d + '/scalar.npy', np.float64(3.25))
            with open(d + '/v2.npy', 'wb') as fh:
                f.write_array(fh, a.astype('<f4'), version=(2, 0))
            np.save(d + '/fortran.npy', np.asfortranarray(a))
            np.save(d + '/int.npy', np.arange(3))
            np.save(d + '/big.npy', a.astype('>f8'))
            """, _dir);
        var f8 = NpyArray.Read(File("f8.npy"));
        Assert.Equal("<f8", f8.Descr);
        Assert.Equal([2L, 3, 4], f8.Shape);
        Assert.Equal(23 / 7.0, f8.Double![23]);
        var f4 = NpyArray.Read(File("f4.npy"));
        Assert.Equal((float)(23 / 7.0), f4.Single![23]);
        Assert.Equal(f4.Single, NpyArray.Read(File("v2.npy")).Single);
        Assert.Equal(f4.Single, f8.ToSingle());
        Assert.Equal([2L], NpyArray.Read(File("vec.npy")).Shape);
        var scalar = NpyArray.Read(File("scalar.npy"));
        Assert.Empty(scalar.Shape);
        Assert.Equal(3.25, Assert.Single(scalar.Double!));

        Assert.Equal(".npy fortran_order True is not supported: only C order", Assert.Throws<NpyFormatException>(() => NpyArray.Read(File("fortran.npy"))).Message);
        Assert.StartsWith(".npy dtype '<i8' is not supported", Assert.Throws<NpyFormatException>(() => NpyArray.Read(File("int.npy"))).Message);
        Assert.StartsWith(".npy dtype '>f8' is not supported", Assert.Throws<NpyFormatException>(() => NpyArray.Read(File("big.npy"))).Message);
        Assert.Equal("not a .npy file (no \\x93NUMPY magic)", Assert.Throws<NpyFormatException>(() => NpyArray.Read("plain text"u8)).Message);
        var truncated = System.IO.File.ReadAllBytes(File("f4.npy"))[..^1];
        Assert.StartsWith(".npy data is 95 bytes", Assert.Throws<NpyFormatException>(() => NpyArray.Read(truncated)).Message);

        // Broker writes; numpy reads the same arrays, and the bytes equal numpy.save's.
        f8.Write(File("ours8.npy"));
        f4.Write(File("ours4.npy"));
        NpyArray.Read(File("vec.npy")).Write(File("oursvec.npy"));
        string check = Python.RunCode("""
            import sys, numpy as np
            d = sys.argv[1]
            for ours, theirs in (('ours8', 'f8'), ('ours4', 'f4'), ('oursvec', 'vec')):
                a, b = np.load(d + '/' + ours + '.npy'), np.load(d + '/' + theirs + '.npy')
                same = a.dtype == b.dtype and a.shape == b.shape and (a == b).all()
                print(ours, same, open(d + '/' + ours + '.npy', 'rb').read() == open(d + '/' + theirs + '.npy', 'rb').read())
            """, _dir);
        Assert.Equal(["ours8 True True", "ours4 True True", "oursvec True True"], check.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}
