using System.Globalization;
using System.Text.Json;
using Broker.TestSupport;

namespace Broker.Catalogs.Tests;

public sealed class FitsCatalogReaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("broker-catalogs-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // astropy writes the table (an image HDU first, then the BINTABLE), with every TFORM type the reader takes,
    // unsigned integers through TZERO, a scaled column and a TNULL; then reads it back and prints what it sees.
    private const string WriteTable = """
import sys, json, numpy as np
from astropy.io import fits
n = int(sys.argv[2]); rng = np.random.default_rng(7)
ra = rng.uniform(0, 360, n); ra[0] = 0.0; ra[1] = np.nextafter(360.0, 0)
dec = np.degrees(np.arcsin(rng.uniform(-1, 1, n))); dec[0] = 90.0; dec[1] = -90.0
cols = [
  fits.Column(name='SOURCE_ID', format='K', array=rng.integers(-2**62, 2**62, n)),
  fits.Column(name='RA', format='D', array=ra),
  fits.Column(name='DEC', format='D', array=dec),
  fits.Column(name='pmra', format='E', array=np.where(np.arange(n) % 5 == 0, np.nan, rng.normal(0, 10, n)).astype('f4')),
  fits.Column(name='pmdec', format='E', array=rng.normal(0, 10, n).astype('f4')),
  fits.Column(name='flag', format='L', array=rng.integers(0, 2, n).astype(bool)),
  fits.Column(name='b', format='B', array=rng.integers(0, 256, n).astype('u1')),
  fits.Column(name='u16', format='I', bzero=32768, array=rng.integers(0, 65536, n).astype('u2')),
  fits.Column(name='j', format='J', null=-999, array=np.where(np.arange(n) % 7 == 0, -999, rng.integers(-2**31, 2**31, n)).astype('i4')),
  fits.Column(name='u32', format='J', bzero=2147483648, array=rng.integers(0, 2**32, n).astype('u4')),
  fits.Column(name='mag', format='I', array=rng.integers(-12000, 12000, n).astype('i2')),
  fits.Column(name='name', format='12A', array=np.array(['star %d' % i for i in range(n)])),
]
t = fits.BinTableHDU.from_columns(cols)
t.header['TSCAL11'] = 0.001; t.header['TZERO11'] = 20.0
fits.HDUList([fits.PrimaryHDU(np.zeros((3, 5), 'f4')), t]).writeto(sys.argv[1], overwrite=True)
d = fits.open(sys.argv[1])[1].data
out = []
for r in d:
  out.append([int(r['SOURCE_ID']), repr(float(r['RA'])), repr(float(r['DEC'])), repr(float(r['pmra'])), repr(float(r['pmdec'])),
              bool(r['flag']), int(r['b']), int(r['u16']), None if int(r['j']) == -999 else int(r['j']), int(r['u32']), repr(float(r['mag'])), str(r['name'])])
json.dump(out, sys.stdout)
""";

    [OracleFact("astropy", "numpy", NeedsSharedData = false)]
    public void Every_column_type_and_scaling_matches_astropy()
    {
        const int n = 5_000;
        string path = Path.Combine(_dir, "cat.fits");
        using var doc = JsonDocument.Parse(Python.RunCode(WriteTable, path, n.ToString(CultureInfo.InvariantCulture)));
        var expected = doc.RootElement.EnumerateArray().ToList();
        var columns = new CatalogColumns("source_id", "ra", "dec") { Pmra = "PMRA", Pmdec = "pmdec", Extra = ["flag", "b", "u16", "j", "u32", "mag", "name"] };
        var rows = FitsCatalogReader.Read(path, columns).ToList();
        Assert.Equal(n, rows.Count);
        for (int i = 0; i < n; i++)
        {
            var e = expected[i];
            var r = rows[i];
            double D(int k) => double.Parse(e[k].GetString()!, CultureInfo.InvariantCulture);
            Assert.Equal(e[0].GetInt64(), r.Id.Number);
            Assert.Equal(D(1), r.Ra);
            Assert.Equal(D(2), r.Dec);
            Assert.Equal(double.IsNaN(D(3)) ? null : D(3), r.Pmra);
            Assert.Equal(D(4), r.Pmdec);
            Assert.Null(r.Epoch);
            Assert.Equal(e[5].GetBoolean(), r.Extra[0]);
            Assert.Equal(e[6].GetInt64(), r.Extra[1]);
            Assert.Equal(e[7].GetInt64(), r.Extra[2]);
            Assert.Equal(e[8].ValueKind == JsonValueKind.Null ? null : e[8].GetInt64(), r.Extra[3]);
            Assert.Equal(e[9].GetInt64(), r.Extra[4]);
            Assert.Equal(D(10), (double)r.Extra[5]!, 1e-9);
            Assert.Equal(e[11].GetString(), r.Extra[6]);
        }
    }

    [OracleFact("astropy", "numpy", NeedsSharedData = false)]
    public void Missing_column_and_out_of_range_position_name_the_file_row_and_column()
    {
        string path = Path.Combine(_dir, "bad.fits");
        Python.RunCode("""
import sys, numpy as np
from astropy.io import fits
fits.BinTableHDU.from_columns([fits.Column(name='id', format='J', array=np.arange(4)),
  fits.Column(name='ra', format='D', array=[1.0, 2.0, 3.0, 4.0]), fits.Column(name='dec', format='E', array=[0, 10, np.nan, 0])]).writeto(sys.argv[1])
""", path);
        var e = Assert.Throws<CatalogFormatException>(() => FitsCatalogReader.Read(path, new CatalogColumns("id", "ra", "dec")).ToList());
        Assert.Equal((path, 3L, "dec"), (e.File, e.Row, e.Column));
        Assert.Contains("not in [-90, 90]", e.Message);
        e = Assert.Throws<CatalogFormatException>(() => FitsCatalogReader.Read(path, new CatalogColumns("id", "ra", "decl")).ToList());
        Assert.Equal((0L, "decl"), (e.Row, e.Column));
        Assert.Contains("no such column", e.Message);
    }

    [Fact]
    public void A_file_that_is_not_FITS_or_missing_gives_one_clear_error()
    {
        string path = Path.Combine(_dir, "x.fits");
        File.WriteAllText(path, "id,ra,dec\n");
        var e = Assert.Throws<CatalogFormatException>(() => FitsCatalogReader.Read(path, new CatalogColumns("id", "ra", "dec")).ToList());
        Assert.StartsWith(path + ": ", e.Message);
        e = Assert.Throws<CatalogFormatException>(() => FitsCatalogReader.Read(Path.Combine(_dir, "none.fits"), new CatalogColumns("id", "ra", "dec")).ToList());
        Assert.Contains("cannot read the file", e.Message);
    }
}
