#!/usr/bin/env python3
"""Writes Broker's own copies of the survey alert schemas into schemas/ztf and schemas/lsst.

The copies keep exactly what a reader schema needs from the published field lists: record names, namespaces,
field names, types, order, defaults and the non-doc attributes (ZTF's "version", Rubin's "confluent:version").
Upstream documentation strings are dropped; each record gets a one-line description of our own. The published
field lists are ZwickyTransientFacility/ztf-avro-alert schema/ (v4.02) and lsst/alert_packet schema/11/0.

Usage: tools/schemas/write_survey_schemas.py ZTF_SCHEMA_DIR LSST_11_0_SCHEMA_DIR   (run from the repository root)
"""
import json
import os
import sys

OURS = {
    "ztf.alert": "ZTF alert packet, schema 4.02 (Broker's copy of the published field list).",
    "ztf.alert.candidate": "The detection that triggered the alert.",
    "ztf.alert.prv_candidate": "An earlier detection (candid set) or upper limit (candid null) of the last 30 days.",
    "ztf.alert.cutout": "A gzipped FITS stamp.",
    "ztf.alert.fp_hist": "Forced photometry at the object's position, last 30 days.",
    "lsst.v11_0.alert": "Rubin alert packet, schema lsst.v11_0 (Broker's copy of the published field list).",
    "lsst.v11_0.diaSource": "A source detected on a difference image.",
    "lsst.v11_0.diaObject": "The object a diaSource is associated with, with per-band summaries.",
    "lsst.v11_0.diaForcedSource": "Forced photometry on a difference image at a diaObject's position.",
    "lsst.v11_0.ssSource": "Solar-system association of a diaSource.",
    "lsst.v11_0.mpc_orbits": "MPC orbit of the associated solar-system object.",
}


def strip(node):
    """Drops "doc" everywhere below a record; recurses through unions, arrays and maps."""
    if isinstance(node, list):
        return [strip(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key in ("type", "name", "namespace"):
        if key in node:
            out[key] = strip(node[key]) if key == "type" else node[key]
    for key, value in node.items():
        if key in ("doc", "type", "name", "namespace", "fields", "items", "values", "default"):
            continue
        out[key] = value
    for key in ("items", "values"):
        if key in node:
            out[key] = strip(node[key])
    if "fields" in node:
        out["fields"] = [field(f) for f in node["fields"]]
    return out


def field(f):
    out = {"name": f["name"], "type": strip(f["type"])}
    if "default" in f:
        out["default"] = f["default"]
    for key, value in f.items():
        if key not in ("name", "type", "default", "doc"):
            out[key] = value
    return out


def write(src, dst_dir, dst_name):
    with open(src) as fh:
        schema = json.load(fh)
    full = schema["namespace"] + "." + schema["name"]
    out = strip(schema)
    out = {"type": out.pop("type"), "name": out.pop("name"), "namespace": out.pop("namespace"), "doc": OURS[full], **out}
    os.makedirs(dst_dir, exist_ok=True)
    with open(os.path.join(dst_dir, dst_name), "w") as fh:
        fh.write("{\n")
        keys = [k for k in out if k != "fields"]
        for k in keys:
            fh.write(f"  {json.dumps(k)}: {json.dumps(out[k])},\n")
        fh.write('  "fields": [\n')
        fh.write(",\n".join("    " + json.dumps(f) for f in out["fields"]))
        fh.write("\n  ]\n}\n")


def main():
    ztf, lsst = sys.argv[1], sys.argv[2]
    for name in ("alert", "candidate", "prv_candidate", "cutout", "fp_hist"):
        write(os.path.join(ztf, name + ".avsc"), "schemas/ztf", f"ztf.alert.{name}.avsc" if name != "alert" else "ztf.alert.avsc")
    for name in ("alert", "diaSource", "diaObject", "diaForcedSource", "ssSource", "mpc_orbits"):
        write(os.path.join(lsst, f"lsst.v11_0.{name}.avsc"), "schemas/lsst", f"lsst.v11_0.{name}.avsc")


if __name__ == "__main__":
    main()
