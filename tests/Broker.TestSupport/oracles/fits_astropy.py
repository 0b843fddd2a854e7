#!/usr/bin/python3
"""Reference reading of alert cutouts with astropy, for the Broker.Alerts FITS tests.

Usage: /usr/bin/python3 fits_astropy.py OUTDIR PATH [PATH ...]

Each PATH is a directory (walked recursively for *.avro and *.tar.gz), an alert file, or a FITS file.
Alert files may be:
  * Avro Object Container Files (ZTF packets, Fink/Spark re-serialisations, Rubin containers);
  * gzip tarballs of single-alert .avro files (Ampel's *.tar.gz);
  * Rubin Confluent wire-format messages (byte 0 = 0, bytes 1-4 = big-endian schema id
    major*100+minor, then the Avro body without a header). These are decoded with the
    schema files in <data>/lsst/schema/<major>.<minor>/, found by walking up from the file.
A PATH ending in .fits, .fits.gz or .fz is read directly as one FITS file named after its basename.

For every cutout this writes into OUTDIR:
  <id>_<kind>.stamp      the raw stampData bytes (gzipped FITS for ZTF, plain FITS for Rubin);
  <id>_<kind>.npy        astropy's data of the first image HDU that has data, cast to little-endian
                         float32 (numpy.save);
  <id>_<kind>.hdu<N>.npy the same for every other image HDU N with data (Rubin's UNCERT and PSFIMAGE);
where <id> is candid (ZTF) or diaSource.diaSourceId (Rubin) and <kind> is science, template or
difference. When two cutouts would get the same name (the same ZTF candid appears in several sample
files) and their bytes differ, the later one is named <id>.<n>_<kind>; identical repeats are skipped.

It prints one tab-separated line per written cutout to stdout:
  name  source  n_hdus  first_image_hdu  rows  cols  zscale_min  zscale_max
with zscale limits from astropy.visualization.ZScaleInterval() at its defaults ("nan" when the
image has no finite pixel). Diagnostics go to stderr. Exit status 0 on success.
"""

import gzip
import io
import json
import os
import struct
import sys
import tarfile
import warnings

import avro.datafile
import avro.io
import avro.schema
import numpy as np
from astropy.io import fits
from astropy.io.fits.verify import VerifyWarning
from astropy.visualization import ZScaleInterval

KINDS = (("cutoutScience", "science"), ("cutoutTemplate", "template"), ("cutoutDifference", "difference"))

# ZTF's primary headers put the SIMPLE value outside column 30; astropy warns and reads on.
warnings.simplefilter("ignore", VerifyWarning)


def read_fits(data):
    """astropy HDUList of FITS bytes, gunzipping first (astropy does not sniff gzip in BytesIO)."""
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return fits.open(io.BytesIO(data), memmap=False, lazy_load_hdus=False)


def ocf_records(data):
    yield from avro.datafile.DataFileReader(io.BytesIO(data), avro.io.DatumReader())


_schema_cache = {}


def lsst_schema(path, schema_id):
    """The Rubin alert schema for a Confluent schema id, parsed with every file of its version."""
    major, minor = divmod(schema_id, 100)
    directory = None
    here = os.path.dirname(os.path.abspath(path))
    while True:
        candidate = os.path.join(here, "lsst", "schema", f"{major}.{minor}")
        if os.path.basename(here) == "lsst":
            candidate = os.path.join(here, "schema", f"{major}.{minor}")
        if os.path.isdir(candidate):
            directory = candidate
            break
        parent = os.path.dirname(here)
        if parent == here:
            raise RuntimeError(f"{path}: no lsst/schema/{major}.{minor} above this file")
        here = parent
    if directory in _schema_cache:
        return _schema_cache[directory]
    names = avro.schema.Names()
    files = sorted(f for f in os.listdir(directory) if f.endswith(".avsc"))
    # The alert record refers to the others by full name, so they must be known first.
    files.sort(key=lambda f: f.endswith(".alert.avsc"))
    schema = None
    for f in files:
        with open(os.path.join(directory, f), encoding="utf-8") as fh:
            parsed = avro.schema.make_avsc_object(json.load(fh), names)
        if f.endswith(".alert.avsc"):
            schema = parsed
    if schema is None:
        raise RuntimeError(f"{directory}: no *.alert.avsc")
    _schema_cache[directory] = schema
    return schema


def confluent_record(path, data):
    (schema_id,) = struct.unpack(">I", data[1:5])
    schema = lsst_schema(path, schema_id)
    decoder = avro.io.BinaryDecoder(io.BytesIO(data[5:]))
    return avro.io.DatumReader(schema, schema).read(decoder)


def alert_records(path):
    """(source label, record) for every alert in an alert file."""
    with open(path, "rb") as fh:
        data = fh.read()
    if path.endswith(".tar.gz") or path.endswith(".tgz"):
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            for member in tar.getmembers():
                if member.isfile() and member.name.endswith(".avro"):
                    member_data = tar.extractfile(member).read()
                    for record in ocf_records(member_data):
                        yield f"{path}::{member.name}", record
    elif data[:4] == b"Obj\x01":
        for record in ocf_records(data):
            yield path, record
    elif data[:1] == b"\x00" and len(data) > 5:
        yield path, confluent_record(path, data)
    else:
        raise RuntimeError(f"{path}: neither an Avro container, a tarball nor a Confluent message")


def alert_id(record):
    if record.get("candid") is not None:
        return str(record["candid"])
    source = record.get("diaSource")
    if source is not None and source.get("diaSourceId") is not None:
        return str(source["diaSourceId"])
    if record.get("diaSourceId") is not None:
        return str(record["diaSourceId"])
    raise RuntimeError("record has neither candid nor diaSource.diaSourceId")


def stamps(record):
    for field, kind in KINDS:
        cutout = record.get(field)
        if cutout is None:
            continue
        data = cutout.get("stampData") if isinstance(cutout, dict) else cutout
        if data:
            yield kind, bytes(data)


def save_npy(path, data):
    np.save(path, np.ascontiguousarray(np.asarray(data, dtype="<f4")))


class Writer:
    def __init__(self, outdir):
        self.outdir = outdir
        self.written = {}  # name -> bytes

    def unique_name(self, ident, kind, data):
        n = 1
        while True:
            stem = ident if n == 1 else f"{ident}.{n}"
            name = f"{stem}_{kind}"
            previous = self.written.get(name)
            if previous is None:
                return name
            if previous == data:
                return None
            n += 1

    def write(self, name, source, data, stamp=True):
        self.written[name] = data
        if stamp:
            with open(os.path.join(self.outdir, name + ".stamp"), "wb") as fh:
                fh.write(data)
        hdus = read_fits(data)
        first = None
        for index, hdu in enumerate(hdus):
            if not isinstance(hdu, (fits.PrimaryHDU, fits.ImageHDU)) or hdu.data is None:
                continue
            if first is None:
                first = index
                save_npy(os.path.join(self.outdir, name + ".npy"), hdu.data)
                image = np.asarray(hdu.data, dtype=np.float32)
            else:
                save_npy(os.path.join(self.outdir, f"{name}.hdu{index}.npy"), hdu.data)
        if first is None:
            raise RuntimeError(f"{source}: {name} has no image HDU with data")
        if np.isfinite(image).any():
            zmin, zmax = ZScaleInterval().get_limits(image)
            limits = f"{float(zmin)!r}\t{float(zmax)!r}"
        else:
            limits = "nan\tnan"
        rows, cols = image.shape
        print(f"{name}\t{source}\t{len(hdus)}\t{first}\t{rows}\t{cols}\t{limits}")


def walk(path):
    if os.path.isdir(path):
        for root, dirs, files in os.walk(path):
            dirs.sort()
            for f in sorted(files):
                if f.endswith(".avro") or f.endswith(".tar.gz"):
                    yield os.path.join(root, f)
    else:
        yield path


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    outdir = argv[1]
    os.makedirs(outdir, exist_ok=True)
    writer = Writer(outdir)
    for root in argv[2:]:
        for path in walk(root):
            if path.endswith((".fits", ".fits.gz", ".fz")):
                with open(path, "rb") as fh:
                    data = fh.read()
                name = os.path.basename(path).split(".")[0]
                writer.write(name, path, data, stamp=False)
                continue
            for source, record in alert_records(path):
                ident = alert_id(record)
                for kind, data in stamps(record):
                    name = writer.unique_name(ident, kind, data)
                    if name is not None:
                        writer.write(name, source, data)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
