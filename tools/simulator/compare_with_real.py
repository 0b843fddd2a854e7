#!/usr/bin/python3
"""Side-by-side comparison of simulated and real ZTF alerts (issue 4).

Simulates nothing: reads a folder of simulated alerts (``./broker simulate --survey ztf ... --out DIR``) and the real
alerts under ../shared/data/ztf/alerts (Avro container files, loose or inside .tar.gz), and writes

* ``docs/simulator-distributions.png``: magpsf, sigmapsf, history lengths (detections and upper limits), drb / rb,
  sgscore1, distpsnr1 and cutout pixel statistics (median and robust std of science, template and difference);
* ``docs/simulator-cutouts.png``: a grid of real and simulated triplets (science, template, difference) on the same
  zscale, in shuffled order without labels; the key is printed below the grid and on stdout.

Run with Debian's python (python3-avro, python3-astropy, python3-numpy, python3-matplotlib):
    /usr/bin/python3 tools/simulator/compare_with_real.py /tmp/sim /work/shared/data/ztf/alerts
"""
import argparse
import gzip
import io
import os
import random
import sys
import tarfile
import warnings

import avro.datafile
import avro.io
import numpy as np
from astropy.io import fits
from astropy.visualization import ZScaleInterval

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

warnings.simplefilter("ignore")


def records_from_bytes(data):
    try:
        reader = avro.datafile.DataFileReader(io.BytesIO(data), avro.io.DatumReader())
        for rec in reader:
            yield rec
    except Exception as e:  # not a container file, or a schema python3-avro refuses: skip, but say so
        print(f"skipped a file: {e.__class__.__name__}: {str(e)[:80]}", file=sys.stderr)


def load(folder, limit=None):
    out = []
    for root, _, files in os.walk(folder):
        for name in sorted(files):
            path = os.path.join(root, name)
            if name.endswith(".avro"):
                with open(path, "rb") as fh:
                    out.extend(records_from_bytes(fh.read()))
            elif name.endswith(".tar.gz"):
                with tarfile.open(path) as tar:
                    for member in tar.getmembers():
                        if member.isfile() and member.name.endswith(".avro"):
                            out.extend(records_from_bytes(tar.extractfile(member).read()))
            if limit and len(out) >= limit:
                return out[:limit]
    return out


def stamp(rec, kind):
    c = rec.get("cutout" + kind)
    if not c:
        return None
    data = c.get("stampData") if isinstance(c, dict) else c
    if data is None:
        return None
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    with fits.open(io.BytesIO(data)) as h:
        return np.array(h[0].data, dtype=np.float64)


def robust_std(a):
    a = a[np.isfinite(a)]
    if a.size == 0:
        return np.nan
    return 1.4826 * np.median(np.abs(a - np.median(a)))


def features(recs):
    f = {k: [] for k in ["magpsf", "sigmapsf", "ndet", "nlim", "drb", "rb", "sgscore1", "distpsnr1", "nan_frac", "shape"]}
    for kind in ["Science", "Template", "Difference"]:
        f["med_" + kind] = []
        f["std_" + kind] = []
    for r in recs:
        c = r["candidate"]
        f["magpsf"].append(c.get("magpsf"))
        f["sigmapsf"].append(c.get("sigmapsf"))
        f["drb"].append(c.get("drb"))
        f["rb"].append(c.get("rb"))
        f["sgscore1"].append(c.get("sgscore1"))
        f["distpsnr1"].append(c.get("distpsnr1"))
        prv = r.get("prv_candidates") or []
        f["ndet"].append(sum(1 for p in prv if p.get("magpsf") is not None))
        f["nlim"].append(sum(1 for p in prv if p.get("magpsf") is None))
        nan = 0
        for kind in ["Science", "Template", "Difference"]:
            try:
                s = stamp(r, kind)
            except Exception:
                s = None
            f["med_" + kind].append(np.nanmedian(s) if s is not None else np.nan)
            f["std_" + kind].append(robust_std(s) if s is not None else np.nan)
            if s is not None:
                nan = max(nan, np.isnan(s).mean())
                if kind == "Science":
                    f["shape"].append(s.shape)
        f["nan_frac"].append(nan)
    return {k: (np.array([np.nan if v is None else v for v in vals], dtype=float) if k != "shape" else vals) for k, vals in f.items()}


def finite(a, lo=None, hi=None):
    a = a[np.isfinite(a)]
    if lo is not None:
        a = a[(a >= lo) & (a <= hi)]
    return a


def hist(ax, real, sim, title, bins, log=False):
    r, s = finite(real), finite(sim)
    if log:
        r, s = np.log10(r[r > 0]), np.log10(s[s > 0])
        title = "log10 " + title
    if r.size + s.size == 0:
        ax.set_title(title + " (absent)")
        return
    allv = np.concatenate([r, s])
    lo, hi = np.percentile(allv, [0.5, 99.5])
    edges = np.linspace(lo, hi if hi > lo else lo + 1, bins)
    ax.hist(r, edges, density=True, histtype="step", lw=1.6, color="k", label=f"real ({r.size})")
    ax.hist(s, edges, density=True, histtype="stepfilled", alpha=0.45, color="tab:orange", label=f"sim ({s.size})")
    ax.set_title(title, fontsize=9)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=6)


def distributions(real, sim, path):
    panels = [
        ("magpsf", "magpsf", False), ("sigmapsf", "sigmapsf", False), ("ndet", "prv detections", False),
        ("nlim", "prv upper limits", False), ("drb", "drb", False), ("rb", "rb", False),
        ("sgscore1", "sgscore1", False), ("distpsnr1", "distpsnr1 [arcsec]", False),
        ("med_Science", "science median", False), ("std_Science", "science robust std", True),
        ("med_Template", "template median", False), ("std_Template", "template robust std", True),
        ("med_Difference", "difference median", False), ("std_Difference", "difference robust std", True),
        ("nan_frac", "NaN pixel fraction (max of 3)", False),
    ]
    fig, axes = plt.subplots(4, 4, figsize=(15, 12))
    for ax, (key, title, log) in zip(axes.flat, panels):
        hist(ax, real[key], sim[key], title, 30, log)
    ax = axes.flat[-1]
    shapes_r = sum(1 for s in real["shape"] if s != (63, 63))
    shapes_s = sum(1 for s in sim["shape"] if s != (63, 63))
    nan_r = int(np.sum(real["nan_frac"] > 0))
    nan_s = int(np.sum(sim["nan_frac"] > 0))
    ax.axis("off")
    ax.text(0, 0.8, f"stamps not 63x63: real {shapes_r}/{len(real['shape'])}, sim {shapes_s}/{len(sim['shape'])}", fontsize=9)
    ax.text(0, 0.6, f"alerts with NaN pixels: real {nan_r}/{len(real['nan_frac'])}, sim {nan_s}/{len(sim['nan_frac'])}", fontsize=9)
    fig.suptitle("ZTF alerts: real (../shared/data, black) vs simulated (orange), normalised histograms", fontsize=12)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def cutouts(real_recs, sim_recs, path, n=8, seed=4):
    rng = random.Random(seed)
    pick_r = rng.sample(real_recs, n)
    pick_s = rng.sample(sim_recs, n)
    items = [("real", r) for r in pick_r] + [("sim", r) for r in pick_s]
    rng.shuffle(items)
    cols = 4  # triplets per row
    rows = (len(items) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols * 3, figsize=(cols * 3 * 1.3, rows * 1.45))
    key = []
    zs = ZScaleInterval()
    for i, (label, rec) in enumerate(items):
        key.append(f"{i + 1}:{label}")
        for j, kind in enumerate(["Science", "Template", "Difference"]):
            ax = axes[i // cols, (i % cols) * 3 + j]
            ax.set_xticks([])
            ax.set_yticks([])
            s = stamp(rec, kind)
            if s is None:
                continue
            # One zscale per triplet (from the science stamp) for science and template, its own for the difference.
            ref = s if kind == "Difference" else stamp(rec, "Science")
            finite_ref = ref[np.isfinite(ref)]
            vmin, vmax = zs.get_limits(finite_ref) if finite_ref.size else (0, 1)
            ax.imshow(s, origin="lower", cmap="gray", vmin=vmin, vmax=vmax, interpolation="nearest")
            if j == 0:
                ax.set_ylabel(str(i + 1), fontsize=8, rotation=0, labelpad=8)
    fig.subplots_adjust(wspace=0.03, hspace=0.08, bottom=0.07)
    text = "key: " + "  ".join(key)
    fig.text(0.01, 0.01, text, fontsize=6)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return text


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.dirname(os.path.dirname(here))
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("simulated", help="folder written by ./broker simulate --survey ztf")
    p.add_argument("real", nargs="?", default=os.path.join(repo, "..", "shared", "data", "ztf", "alerts"))
    p.add_argument("--docs", default=os.path.join(repo, "docs"))
    p.add_argument("--max-simulated", type=int, default=3000)
    a = p.parse_args()
    real_recs = load(a.real)
    sim_recs = load(a.simulated, a.max_simulated)
    print(f"real alerts: {len(real_recs)}, simulated: {len(sim_recs)}")
    real, sim = features(real_recs), features(sim_recs)
    for k in ["magpsf", "sigmapsf", "ndet", "nlim", "drb", "rb", "sgscore1", "distpsnr1",
              "med_Science", "std_Science", "med_Template", "std_Template", "med_Difference", "std_Difference"]:
        r, s = finite(real[k]), finite(sim[k])
        q = lambda x: " ".join(f"{v:8.3g}" for v in np.percentile(x, [10, 50, 90])) if x.size else "   (none)"
        print(f"{k:16s} real p10/50/90 {q(r)}   sim {q(s)}")
    os.makedirs(a.docs, exist_ok=True)
    distributions(real, sim, os.path.join(a.docs, "simulator-distributions.png"))
    print(cutouts(real_recs, sim_recs, os.path.join(a.docs, "simulator-cutouts.png")))


if __name__ == "__main__":
    main()
