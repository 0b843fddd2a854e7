#!/usr/bin/python3
"""Independent oracle for Broker's filter language (issue 15).

Reads the alert files with Debian's python3-avro, builds each alert's fields straight from the survey record
(not from Broker's alert model), and evaluates every expression of EXPRESSIONS with its own parser and
evaluator written from the language's definition (docs/filters.md): SQL's three-valued logic with None as
unknown, None as null, Python ints checked against 64 bits, floats with NaN read as null. Galactic and
ecliptic latitudes come from astropy when it is installed; `like` is translated to a regular expression.

usage: filter_oracle.py REPO_ROOT DATA_ROOT EXPRESSIONS PATH...   (Rubin schemas: DATA_ROOT/lsst/schema)
prints one JSON object: {"records": [[key, alertId], ...], "results": [[key, ...] per expression]}
with key = "<file relative to DATA_ROOT>[::member]#<record index>".
EXPRESSIONS is a text file (one expression per line, # comments) or a folder of filter definitions (*.yaml,
read with python3-yaml), whose `where` expressions are evaluated in file-name order; with --golden OUT, the
matching alert ids of each definition (sorted, unique) are written to OUT/<name>.txt instead.
"""
import datetime, io, json, math, os, re, sys, tarfile
from decimal import Decimal, ROUND_HALF_UP
import avro.datafile, avro.errors, avro.io, avro.schema

SKIP = {'.avsc', '.json', '.md', '.txt', '.csv', '.tsv', '.metadata', '.py', '.parquet', '.h5', '.pt', '.npy', '.png'}
I64 = (-2**63, 2**63 - 1)
LEAP_TAI_UTC = 37.0  # seconds since 2017-01-01; every ZTF alert here is later (IERS Bulletin C)

# ---------------------------------------------------------------- reading

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
                names.names = snapshot
                failed.append(f)
        if len(failed) == len(pending):
            raise RuntimeError('cannot parse ' + ', '.join(failed))
        pending = failed
    return next(s for f, s in parsed.items() if f.endswith('.alert.avsc'))


def read_bytes(source, data, schemas, out):
    if data[:2] == b'\x1f\x8b' or (len(data) > 262 and data[257:262] == b'ustar'):
        with tarfile.open(fileobj=io.BytesIO(data), mode='r:*') as tar:
            for m in tar.getmembers():
                if m.isfile() and os.path.splitext(m.name)[1] not in SKIP:
                    read_bytes(source + '::' + m.name, tar.extractfile(m).read(), schemas, out)
        return
    if data[:4] == b'Obj\x01':
        with avro.datafile.DataFileReader(io.BytesIO(data), avro.io.DatumReader()) as reader:
            for i, rec in enumerate(reader):
                out.append((source, i, rec))
        return
    if data[:1] == b'\x00':
        sid = int.from_bytes(data[1:5], 'big')
        schema = load_version(os.path.join(schemas, '%d.%d' % (sid // 100, sid % 100)))
        out.append((source, 0, avro.io.DatumReader(schema).read(avro.io.BinaryDecoder(io.BytesIO(data[5:])))))
        return
    raise RuntimeError(source + ': unknown format')

# ---------------------------------------------------------------- the field catalogue, from the schema files

def survey_types(repo):
    """path -> 'int' | 'real' | 'string' | 'bool', from schemas/ztf and schemas/lsst (scalar fields only)."""
    kinds = {'boolean': 'bool', 'int': 'int', 'long': 'int', 'float': 'real', 'double': 'real', 'string': 'string'}
    files = [('', 'ztf/ztf.alert.avsc'), ('candidate.', 'ztf/ztf.alert.candidate.avsc'),
             ('', 'lsst/lsst.v11_0.alert.avsc'), ('diaSource.', 'lsst/lsst.v11_0.diaSource.avsc'),
             ('diaObject.', 'lsst/lsst.v11_0.diaObject.avsc'), ('ssSource.', 'lsst/lsst.v11_0.ssSource.avsc'),
             ('mpc_orbits.', 'lsst/lsst.v11_0.mpc_orbits.avsc')]
    types = {}
    for prefix, f in files:
        for field in json.load(open(os.path.join(repo, 'schemas', f)))['fields']:
            t = field['type']
            if isinstance(t, list):
                rest = [b for b in t if b != 'null']
                t = rest[0] if len(rest) == 1 else None
            if isinstance(t, dict) and t.get('type') == 'enum':
                t = 'string'
            if isinstance(t, str) and t in kinds:
                types[prefix + field['name']] = kinds[t]
    return types


def coerce(v, kind):
    if v is None:
        return None
    if kind == 'real':
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            return None
        v = float(v)
        return None if math.isnan(v) else v
    if kind == 'int':
        return v if isinstance(v, int) and not isinstance(v, bool) else None
    if kind == 'string':
        return v if isinstance(v, str) else None
    return v if isinstance(v, bool) else None


def ab_mag(flux):
    if flux is None or flux == 0 or math.isnan(flux) or math.isinf(flux):
        return None
    return 31.4 - 2.5 * math.log10(abs(flux))


class AlertView:
    """One alert's fields and history, read from the raw survey record."""

    def __init__(self, rec, types):
        self.f = {}
        self.dets = []   # (mjd, band, mag or None, alert id)
        self.lims = []   # (mjd, band)
        ztf = 'candidate' in rec and 'candid' in rec
        if ztf:
            c = rec['candidate']
            for k, v in rec.items():
                if ('' + k) in types and not isinstance(v, (dict, list)):
                    self.f[k] = coerce(v, types[k])
            for k, v in c.items():
                p = 'candidate.' + k
                if p in types:
                    self.f[p] = coerce(v, types[p])
            band = {1: 'g', 2: 'r', 3: 'i'}.get(c['fid'], str(c['fid']))
            pos = c.get('isdiffpos') in ('t', '1', 'T', None)
            mag = float(c['magpsf'])
            flux = 10 ** (-0.4 * (mag - 31.4)) * (1 if pos else -1)
            mjd = c['jd'] - 2400000.5 + LEAP_TAI_UTC / 86400
            rb = c.get('drb') if c.get('drb') is not None else c.get('rb')
            cut = [rec.get(k) for k in ('cutoutScience', 'cutoutTemplate', 'cutoutDifference')]
            has = all(isinstance(x, dict) and x.get('stampData') is not None for x in cut)
            self.f.update({'survey': 'ztf', 'alertId': rec['candid'], 'objectId': rec['objectId'],
                           'surveySchemaVersion': rec.get('schemavsn') or None, 'ra': c['ra'], 'dec': c['dec'],
                           'raErr': None, 'decErr': None,
                           'mjdTai': mjd, 'band': band, 'mag': mag, 'magErr': c['sigmapsf'], 'flux': flux,
                           'fluxErr': abs(flux) * c['sigmapsf'] * math.log(10) / 2.5,
                           'isPositive': pos, 'realBogus': rb, 'hasCutouts': has})
            for p in rec.get('prv_candidates') or []:
                pm = p.get('jd') - 2400000.5 + LEAP_TAI_UTC / 86400
                pb = {1: 'g', 2: 'r', 3: 'i'}.get(p['fid'], str(p['fid']))
                if p.get('candid') is not None and p.get('magpsf') is not None:
                    self.dets.append((pm, pb, float(p['magpsf']), p['candid']))
                else:
                    self.lims.append((pm, pb))
        else:
            s = rec['diaSource']
            for k, v in rec.items():
                if k in types and not isinstance(v, (dict, list, bytes)):
                    self.f[k] = coerce(v, types[k])
            for sub in ('diaSource', 'diaObject', 'ssSource', 'mpc_orbits'):
                r = rec.get(sub)
                if isinstance(r, dict):
                    for k, v in r.items():
                        p = sub + '.' + k
                        if p in types:
                            self.f[p] = coerce(v, types[p])
            flux = s.get('psfFlux')
            flux = None if flux is None or math.isnan(flux) else float(flux)
            mag = ab_mag(flux)
            fe = s.get('psfFluxErr')
            d_o, s_o = s.get('diaObjectId'), s.get('ssObjectId')
            oid = d_o if d_o is not None and d_o > 0 else s_o if s_o is not None and s_o > 0 else rec['diaSourceId']
            has = all(rec.get(k) is not None for k in ('cutoutScience', 'cutoutTemplate', 'cutoutDifference'))
            self.f.update({'survey': 'lsst', 'alertId': rec['diaSourceId'], 'objectId': str(oid),
                           'ra': s['ra'], 'dec': s['dec'], 'raErr': s.get('raErr'), 'decErr': s.get('decErr'),
                           'mjdTai': s['midpointMjdTai'], 'band': s.get('band') or s.get('filterName') or None,
                           'flux': flux, 'fluxErr': fe, 'mag': mag,
                           'magErr': None if mag is None or fe is None else 2.5 / math.log(10) * fe / abs(flux),
                           'isPositive': flux is not None and flux > 0, 'realBogus': s.get('reliability'),
                           'hasCutouts': has})
            for p in rec.get('prvDiaSources') or []:
                pf = p.get('psfFlux')
                self.dets.append((p['midpointMjdTai'], p.get('band') or '', ab_mag(pf), p.get('diaSourceId')))
        for k in ('ra', 'dec', 'raErr', 'decErr', 'mag', 'magErr', 'flux', 'fluxErr', 'realBogus', 'mjdTai'):
            self.f[k] = coerce(self.f.get(k), 'real')
        self.f['xmatch.count'] = 0
        # The current alert is the latest detection of its own light curve.
        self.cur = (self.f['mjdTai'], self.f['band'], self.f['mag'], math.inf)

    def field(self, path):
        return self.f.get(path)

# ---------------------------------------------------------------- the language

TOKEN = re.compile(r"""\s*(?:(--[^\n]*)|(\d+\.\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+)|(\d+)|
    ('(?:[^']|'')*')|([A-Za-z_][A-Za-z0-9_.]*)|(<>|!=|<=|>=|[-+*/%(),=<>]))""", re.X)
KEYWORDS = {'and', 'or', 'not', 'is', 'null', 'true', 'false', 'in', 'between', 'like'}


def tokenize(s):
    out, i = [], 0
    while True:
        m = TOKEN.match(s, i)
        if not m or m.end() == i:
            if s[i:].strip() == '':
                out.append(('end', None))
                return out
            raise SyntaxError('bad token at %d: %r' % (i, s[i:i + 10]))
        i = m.end()
        comment, dec, integer, string, ident, op = m.groups()
        if comment:
            continue
        if dec:
            out.append(('num', float(dec)))
        elif integer:
            out.append(('num', int(integer)))
        elif string:
            out.append(('str', string[1:-1].replace("''", "'")))
        elif ident:
            out.append(('kw', ident.lower()) if ident.lower() in KEYWORDS else ('id', ident))
        else:
            out.append(('op', '!=' if op == '<>' else op))


class Parser:
    def __init__(self, s):
        self.t, self.i = tokenize(s), 0

    def peek(self, kind=None, val=None):
        k, v = self.t[self.i]
        return (kind is None or k == kind) and (val is None or v == val)

    def take(self):
        self.i += 1
        return self.t[self.i - 1]

    def accept(self, kind, val):
        if self.peek(kind, val):
            self.i += 1
            return True
        return False

    def expect(self, kind, val):
        if not self.accept(kind, val):
            raise SyntaxError('expected %s %s, found %r' % (kind, val, self.t[self.i]))

    def parse(self):
        e = self.orx()
        self.expect('end', None)
        return e

    def orx(self):
        e = self.andx()
        while self.accept('kw', 'or'):
            e = ('or', e, self.andx())
        return e

    def andx(self):
        e = self.notx()
        while self.accept('kw', 'and'):
            e = ('and', e, self.notx())
        return e

    def notx(self):
        if self.accept('kw', 'not'):
            return ('not', self.notx())
        return self.pred()

    def pred(self):
        e = self.add()
        for op in ('=', '!=', '<', '<=', '>', '>='):
            if self.accept('op', op):
                return ('cmp', op, e, self.add())
        if self.accept('kw', 'is'):
            neg = self.accept('kw', 'not')
            self.expect('kw', 'null')
            return ('isnull', e, neg)
        neg = self.accept('kw', 'not')
        if self.accept('kw', 'between'):
            lo = self.add()
            self.expect('kw', 'and')
            return ('between', e, lo, self.add(), neg)
        if self.accept('kw', 'in'):
            self.expect('op', '(')
            items = [self.add()]
            while self.accept('op', ','):
                items.append(self.add())
            self.expect('op', ')')
            return ('in', e, items, neg)
        if self.accept('kw', 'like'):
            k, v = self.take()
            return ('like', e, v, neg)
        if neg:
            raise SyntaxError('not what?')
        return e

    def add(self):
        e = self.mul()
        while self.peek('op', '+') or self.peek('op', '-'):
            e = ('arith', self.take()[1], e, self.mul())
        return e

    def mul(self):
        e = self.unary()
        while self.peek('op', '*') or self.peek('op', '/') or self.peek('op', '%'):
            e = ('arith', self.take()[1], e, self.unary())
        return e

    def unary(self):
        if self.accept('op', '-'):
            if self.peek('num') and self.t[self.i][1] == 2**63:
                return ('lit', -self.take()[1])
            return ('neg', self.unary())
        return self.primary()

    def primary(self):
        k, v = self.take()
        if k in ('num', 'str'):
            return ('lit', v)
        if k == 'kw' and v in ('true', 'false', 'null'):
            return ('lit', {'true': True, 'false': False, 'null': None}[v])
        if k == 'op' and v == '(':
            e = self.orx()
            self.expect('op', ')')
            return e
        if k == 'id':
            if self.accept('op', '('):
                args = []
                if not self.accept('op', ')'):
                    args.append(self.orx())
                    while self.accept('op', ','):
                        args.append(self.orx())
                    self.expect('op', ')')
                return ('call', v.lower(), args)
            return ('field', v)
        raise SyntaxError('unexpected %r' % ((k, v),))


def i64(v):
    return v if v is None or I64[0] <= v <= I64[1] else None


def real(v):
    if v is None:
        return None
    v = float(v)
    return None if math.isnan(v) else v


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def like_regex(p):
    return re.compile(''.join('.*' if ch == '%' else '.' if ch == '_' else re.escape(ch) for ch in p), re.S)


GAL_CACHE, ECL_CACHE = {}, {}


def galactic_lat(ra, dec):
    if (ra, dec) not in GAL_CACHE:
        precompute([(ra, dec)])
    return GAL_CACHE[(ra, dec)]


def ecliptic_lat(ra, dec):
    if (ra, dec) not in ECL_CACHE:
        precompute([(ra, dec)])
    return ECL_CACHE[(ra, dec)]


def precompute(pairs):
    """Galactic latitude (astropy's Galactic frame from ICRS) and ecliptic latitude on the mean ecliptic of J2000."""
    pairs = [p for p in pairs if p not in GAL_CACHE]
    if not pairs:
        return
    try:
        import numpy as np
        from astropy.coordinates import SkyCoord
        import astropy.units as u
        ra = np.array([p[0] for p in pairs]); dec = np.array([p[1] for p in pairs])
        gal = SkyCoord(ra=ra * u.deg, dec=dec * u.deg, frame='icrs').galactic.b.deg
        for p, b in zip(pairs, gal):
            GAL_CACHE[p] = float(b)
    except ImportError:
        # Fallback: the Hipparcos rotation (ESA 1997, vol. 1, eq. 1.5.11), third row.
        for p in pairs:
            a, d = math.radians(p[0]), math.radians(p[1])
            z = -0.4838350155 * math.cos(d) * math.cos(a) + 0.7469822445 * math.cos(d) * math.sin(a) + 0.4559837762 * math.sin(d)
            GAL_CACHE[p] = math.degrees(math.asin(max(-1.0, min(1.0, z))))
    eps = math.radians(23.4392911)
    for p in pairs:
        a, d = math.radians(p[0]), math.radians(p[1])
        # Rotate the unit vector about x by the obliquity.
        x, y, z = math.cos(d) * math.cos(a), math.cos(d) * math.sin(a), math.sin(d)
        ze = -math.sin(eps) * y + math.cos(eps) * z
        ECL_CACHE[p] = math.degrees(math.asin(max(-1.0, min(1.0, ze))))


def haversine_arcsec(ra1, d1, ra2, d2):
    ra1, d1, ra2, d2 = map(math.radians, (ra1, d1, ra2, d2))
    h = math.sin((d2 - d1) / 2) ** 2 + math.cos(d1) * math.cos(d2) * math.sin((ra2 - ra1) / 2) ** 2
    return math.degrees(2 * math.asin(min(1.0, math.sqrt(h)))) * 3600


def points(a, band=None):
    pts = list(a.dets) + [a.cur]
    return [p for p in pts if band is None or p[1] == band]


def latest_two(a, band):
    # By time, then alert id (Fink's Spark files give every previous detection one time); the current alert's id
    # counts as infinite, so at equal times it is the later one.
    pts = sorted([p for p in points(a, band) if p[2] is not None], key=lambda p: (p[0], -math.inf if p[3] is None else p[3]))
    return pts[-2:] if len(pts) >= 2 else (pts if pts else [])


def call(name, args, a):
    if name == 'coalesce':
        return next((x for x in args if x is not None), None)
    if name in ('ndet', 'nnondet', 'first_mjd', 'days_since_first', 'peak_mag') and len(args) == 0:
        band = None
    elif any(x is None for x in args):
        return None
    else:
        band = args[0] if args else None
    if name == 'abs':
        return i64(abs(args[0])) if is_int(args[0]) else real(abs(args[0]))
    if name == 'sqrt':
        return math.sqrt(args[0]) if args[0] >= 0 else None
    if name in ('log10', 'ln'):
        return None if args[0] <= 0 else (math.log10(args[0]) if name == 'log10' else math.log(args[0]))
    if name == 'exp':
        try:
            return math.exp(args[0])
        except OverflowError:
            return None
    if name == 'pow':
        try:
            r = math.pow(args[0], args[1])
        except (OverflowError, ValueError, ZeroDivisionError):
            return None
        return r if math.isfinite(r) else None
    if name in ('floor', 'ceil'):
        if is_int(args[0]):
            return args[0]
        return float(math.floor(args[0]) if name == 'floor' else math.ceil(args[0]))
    if name == 'round':
        if len(args) == 1 and is_int(args[0]):
            return args[0]
        digits = args[1] if len(args) == 2 else 0
        if digits < -15 or digits > 15:
            return None
        if abs(args[0]) >= 1e15:
            return float(args[0])
        # The value to 15 significant digits (what a decimal literal of it says), then half away from zero.
        exact = Decimal(format(args[0], '.15g'))
        return float(exact.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))
    if name in ('min', 'max'):
        r = (min if name == 'min' else max)(args)
        return r if all(is_int(x) for x in args) else float(r)
    if name == 'lower':
        return args[0].lower()
    if name == 'upper':
        return args[0].upper()
    if name == 'length':
        return len(args[0])
    if name == 'angdist':
        if abs(args[1]) > 90 or abs(args[3]) > 90:
            return None
        return haversine_arcsec(*args)
    if name == 'galactic_lat':
        return galactic_lat(float(args[0]), float(args[1])) if abs(args[1]) <= 90 else None
    if name == 'ecliptic_lat':
        return ecliptic_lat(float(args[0]), float(args[1])) if abs(args[1]) <= 90 else None
    if name == 'ndet':
        return len(points(a, band))
    if name == 'nnondet':
        return len([l for l in a.lims if band is None or l[1] == band])
    if name in ('first_mjd', 'days_since_first'):
        ts = [p[0] for p in points(a, band)]
        if not ts:
            return None
        return min(ts) if name == 'first_mjd' else a.cur[0] - min(ts)
    if name == 'peak_mag':
        ms = [p[2] for p in points(a, band) if p[2] is not None]
        return min(ms) if ms else None
    if name == 'last_mag':
        two = latest_two(a, band)
        return two[-1][2] if two else None
    if name == 'rise_rate':
        two = latest_two(a, band)
        if len(two) < 2 or two[1][0] - two[0][0] <= 0:
            return None
        return (two[0][2] - two[1][2]) / (two[1][0] - two[0][0])
    if name in ('colour', 'color'):
        x, y = latest_two(a, args[0]), latest_two(a, args[1])
        limit = args[2] if len(args) == 3 else 1.0
        if not x or not y or abs(x[-1][0] - y[-1][0]) > limit:
            return None
        return x[-1][2] - y[-1][2]
    if name == 'xmatch_count':
        return 0
    if name == 'xmatch_distance':
        return None
    raise NameError(name)


def compare(op, x, y):
    if x is None or y is None:
        return None
    return {'=': x == y, '!=': x != y, '<': x < y, '<=': x <= y, '>': x > y, '>=': x >= y}[op]


def ev(e, a):
    k = e[0]
    if k == 'lit':
        v = e[1]
        return real(v) if isinstance(v, float) else v
    if k == 'field':
        return a.field(e[1])
    if k == 'not':
        v = ev(e[1], a)
        return None if v is None else not v
    if k == 'and':
        l = ev(e[1], a)
        if l is False:
            return False
        r = ev(e[2], a)
        if r is False:
            return False
        return None if l is None or r is None else True
    if k == 'or':
        l = ev(e[1], a)
        if l is True:
            return True
        r = ev(e[2], a)
        if r is True:
            return True
        return None if l is None or r is None else False
    if k == 'cmp':
        return compare(e[1], ev(e[2], a), ev(e[3], a))
    if k == 'isnull':
        v = ev(e[1], a)
        return (v is not None) if e[2] else (v is None)
    if k == 'between':
        x, lo, hi = ev(e[1], a), ev(e[2], a), ev(e[3], a)
        r = ev(('and', ('lit', compare('>=', x, lo)), ('lit', compare('<=', x, hi))), a)
        return (None if r is None else not r) if e[4] else r
    if k == 'in':
        x = ev(e[1], a)
        vals = [ev(i, a) for i in e[2]]
        if x is None:
            r = None
        elif any(v is not None and v == x for v in vals):
            r = True
        elif any(v is None for v in vals):
            r = None
        else:
            r = False
        return (None if r is None else not r) if e[3] else r
    if k == 'like':
        x = ev(e[1], a)
        if x is None:
            return None
        r = like_regex(e[2]).fullmatch(x) is not None
        return not r if e[3] else r
    if k == 'neg':
        v = ev(e[1], a)
        if v is None:
            return None
        return i64(-v) if is_int(v) else -v
    if k == 'arith':
        op, x, y = e[1], ev(e[2], a), ev(e[3], a)
        if x is None or y is None:
            return None
        if op == '/':
            return None if y == 0 else real(x / y)
        if is_int(x) and is_int(y):
            if op == '+': return i64(x + y)
            if op == '-': return i64(x - y)
            if op == '*': return i64(x * y)
            if y == 0: return None
            r = abs(x) % abs(y)  # the remainder takes the dividend's sign
            return r if x >= 0 else -r
        x, y = float(x), float(y)
        if op == '+': return real(x + y)
        if op == '-': return real(x - y)
        if op == '*': return real(x * y)
        return None if y == 0 else real(math.fmod(x, y))
    if k == 'call':
        return call(e[1], [ev(x, a) for x in e[2]], a)
    raise ValueError(k)


def main():
    args = sys.argv[1:]
    golden = None
    if '--golden' in args:
        k = args.index('--golden')
        golden = args[k + 1]
        del args[k:k + 2]
    repo, data_root, expr_file, paths = args[0], args[1], args[2], args[3:]
    lsst_schemas = os.path.join(data_root, 'lsst', 'schema')
    types = survey_types(repo)
    records = []
    for p in paths:
        files = [p] if os.path.isfile(p) else sorted(
            os.path.join(d, f) for d, _, fs in os.walk(p) for f in fs if os.path.splitext(f)[1] not in SKIP)
        for f in files:
            read_bytes(f, open(f, 'rb').read(), lsst_schemas, records)
    base = os.path.abspath(data_root)
    views = []
    for source, index, rec in records:
        key = os.path.relpath(os.path.abspath(source.split('::')[0]), base) + ('::' + source.split('::', 1)[1] if '::' in source else '') + '#' + str(index)
        views.append((key, AlertView(rec, types)))
    precompute([(v.f['ra'], v.f['dec']) for _, v in views])
    names = None
    if os.path.isdir(expr_file):
        import yaml
        defs = [yaml.safe_load(open(os.path.join(expr_file, f), encoding='utf-8')) for f in sorted(os.listdir(expr_file)) if f.endswith('.yaml')]
        names = [d['name'] for d in defs]
        exprs = [d['where'] for d in defs]
    else:
        exprs = [l.rstrip('\n') for l in open(expr_file, encoding='utf-8')]
        exprs = [l for l in exprs if l.strip() and not l.lstrip().startswith('#')]
    results = []
    for x in exprs:
        tree = Parser(x).parse()
        results.append([key for key, v in views if ev(tree, v) is True])
    if golden is not None:
        ids = {key: v.f['alertId'] for key, v in views}
        for name, keys in zip(names, results):
            with open(os.path.join(golden, name + '.txt'), 'w') as out:
                out.write(''.join('%d\n' % i for i in sorted({ids[k] for k in keys})))
        return
    print(json.dumps({'records': [[key, v.f['alertId']] for key, v in views], 'results': results}))


if __name__ == '__main__':
    main()
