#!/usr/bin/python3
"""Reference decoder for Broker's Avro tests: reads alert files with Debian's python3-avro (the Apache Avro
reference implementation) and prints one JSON line per record, {"source", "index", "record"}, using the same
conventions as `broker decode`: bytes as base64, NaN/Infinity as strings, logical timestamps as their integer.

usage: avro_decode.py SCHEMA_FOLDER PATH...   (SCHEMA_FOLDER holds <major>.<minor>/ folders for Confluent ids)
"""
import base64, datetime, io, json, math, os, sys, tarfile
import avro.datafile, avro.errors, avro.io, avro.schema

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
SKIP = {'.avsc', '.json', '.md', '.txt', '.csv', '.metadata', '.npy', '.png'}


def plain(v):
    if isinstance(v, bytes):
        return base64.b64encode(v).decode('ascii')
    if isinstance(v, float):
        if math.isnan(v):
            return 'NaN'
        if math.isinf(v):
            return 'Infinity' if v > 0 else '-Infinity'
        return v
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [plain(x) for x in v]
    if isinstance(v, datetime.datetime):
        # timestamp-micros: python-avro returns an aware datetime; Broker prints the stored long.
        d = v - EPOCH
        return (d.days * 86400 + d.seconds) * 1000000 + d.microseconds
    return v


def load_version(folder):
    names = avro.schema.Names()
    pending = sorted(f for f in os.listdir(folder) if f.endswith('.avsc'))
    parsed = {}
    while pending:
        failed = []
        for f in pending:
            snapshot = dict(names.names)
            try:
                parsed[f] = avro.schema.make_avsc_object(json.load(open(os.path.join(folder, f))), names)
            except avro.errors.SchemaParseException:
                names.names = snapshot  # forget the names a failed attempt defined
                failed.append(f)
        if len(failed) == len(pending):
            raise RuntimeError('cannot parse ' + ', '.join(failed))
        pending = failed
    return next(s for f, s in parsed.items() if f.endswith('.alert.avsc'))


def emit(source, index, record):
    print(json.dumps({'source': source, 'index': index, 'record': plain(record)}, allow_nan=False))


def read_bytes(source, data, schemas):
    if data[:2] == b'\x1f\x8b' or (len(data) > 262 and data[257:262] == b'ustar'):
        with tarfile.open(fileobj=io.BytesIO(data), mode='r:*') as tar:
            for m in tar.getmembers():
                if m.isfile() and os.path.splitext(m.name)[1] not in SKIP:
                    read_bytes(source + '::' + m.name, tar.extractfile(m).read(), schemas)
        return
    if data[:4] == b'Obj\x01':
        with avro.datafile.DataFileReader(io.BytesIO(data), avro.io.DatumReader()) as reader:
            for i, rec in enumerate(reader):
                emit(source, i, rec)
        return
    if data[:1] == b'\x00':
        sid = int.from_bytes(data[1:5], 'big')
        schema = load_version(os.path.join(schemas, '%d.%d' % (sid // 100, sid % 100)))
        rec = avro.io.DatumReader(schema).read(avro.io.BinaryDecoder(io.BytesIO(data[5:])))
        emit(source, 0, rec)
        return
    raise RuntimeError(source + ': unknown format')


def main():
    schemas, paths = sys.argv[1], sys.argv[2:]
    for p in paths:
        files = [p] if os.path.isfile(p) else sorted(
            os.path.join(d, f) for d, _, fs in os.walk(p) for f in fs if os.path.splitext(f)[1] not in SKIP)
        for f in files:
            read_bytes(f, open(f, 'rb').read(), schemas)


if __name__ == '__main__':
    main()
