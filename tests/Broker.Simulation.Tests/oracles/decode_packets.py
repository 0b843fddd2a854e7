#!/usr/bin/env python3
"""Oracle: decodes simulated alert files with python3-avro using the OFFICIAL survey schema as reader schema and
opens every cutout with astropy. Usage: decode_packets.py ztf|lsst OFFICIAL_SCHEMA_DIR FILE...
Prints one line per alert: alert_id ncutouts; exits non-zero on any failure."""
import glob, gzip, io, json, os, sys, warnings
import avro.datafile, avro.io, avro.schema
from astropy.io import fits

warnings.simplefilter("ignore")
survey, folder, files = sys.argv[1], sys.argv[2], sys.argv[3:]
names = avro.schema.Names()
reader = None
paths = sorted(glob.glob(os.path.join(folder, "*.avsc")))
order = (["candidate", "prv_candidate", "cutout", "fp_hist", "alert"] if survey == "ztf"
         else ["diaSource", "diaObject", "diaForcedSource", "ssSource", "mpc_orbits", "alert"])
for part in order:
    path = [p for p in paths if os.path.basename(p).endswith(part + ".avsc")][0] if survey == "lsst" else os.path.join(folder, part + ".avsc")
    s = avro.schema.make_avsc_object(json.load(open(path)), names)
    if part == "alert":
        reader = s
for f in files:
    with open(f, "rb") as fh:
        if survey == "lsst" and f.endswith(".bin"):
            data = fh.read()
            assert data[0] == 0 and int.from_bytes(data[1:5], "big") == 1100, "bad Confluent header"
            rec = avro.io.DatumReader(reader, reader).read(avro.io.BinaryDecoder(io.BytesIO(data[5:])))
            records = [rec]
        else:
            dfr = avro.datafile.DataFileReader(fh, avro.io.DatumReader(None, reader))
            records = list(dfr)
    for r in records:
        n = 0
        for k in ("cutoutScience", "cutoutTemplate", "cutoutDifference"):
            c = r[k]
            if c is None:
                continue
            raw = gzip.decompress(c["stampData"]) if survey == "ztf" else c
            hdus = fits.open(io.BytesIO(raw))
            shape = hdus[0].data.shape
            if survey == "ztf":
                # 63x63, or cut by the CCD edge along one axis (as ~1% of real ZTF stamps are: 63x48, 51x63, ...)
                assert 63 in shape and min(shape) >= 45 and max(shape) == 63, shape
            else:
                assert shape == (30, 30), shape
            if survey == "lsst":
                assert [h.name for h in hdus][1:] == ["UNCERT", "PSFIMAGE"]
            n += 1
        alert_id = r["candid"] if survey == "ztf" else r["diaSourceId"]
        if survey == "ztf":
            c = r["candidate"]
            assert (c["ssnamenr"] == "null") == (c["ssdistnr"] == -999.0)
        print(alert_id, n)
