#!/bin/sh
# Regenerates the golden match lists of the example filters (filters/*.yaml) on the real alerts with the
# independent oracle (python3-avro, python3-yaml). Run from anywhere; DATA defaults to ../shared/data.
set -e
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
data=${DATA:-$(cd "$repo/../shared/data" && pwd)}
mkdir -p "$here/../golden"
/usr/bin/python3 "$here/filter_oracle.py" "$repo" "$data" "$repo/filters" --golden "$here/../golden" "$data/ztf/alerts" "$data/lsst/alerts"
wc -l "$here"/../golden/*.txt
