"""HEALPix oracle for Broker.Sky.Tests: healpy (Debian python3-healpy) over raw little-endian files.

Usage (run with /usr/bin/python3):
  healpix_healpy.py ang2pix DIR ORDER...   reads DIR/theta.f64, DIR/phi.f64 (radians);
                                           writes DIR/nest_ORDER.i64 and DIR/ring_ORDER.i64
  healpix_healpy.py radec2pix DIR ORDER...  reads DIR/ra.f64, DIR/dec.f64 (degrees, lonlat=True); writes as ang2pix
  healpix_healpy.py pixels DIR ORDER       reads DIR/pix.i64 (pixel indices at ORDER); writes
                                           DIR/nest_theta.f64, nest_phi.f64, ring_theta.f64, ring_phi.f64 (pix2ang of
                                           pix read as nested and as ring), nest2ring.i64, ring2nest.i64, and
                                           neighbours.i64 (8 per pixel, get_all_neighbours nest=True, pixel-major)
  healpix_healpy.py disc DIR ORDER         reads DIR/discs.f64 (theta, phi, radius per disc); writes DIR/disc_counts.i64
                                           and DIR/disc_pixels.i64 (query_disc inclusive=True, nest=True, concatenated)
"""
import os
import sys

import healpy as hp
import numpy as np


def read(directory, name, dtype):
    return np.fromfile(os.path.join(directory, name), dtype=dtype)


def write(directory, name, array, dtype):
    np.ascontiguousarray(array, dtype=dtype).tofile(os.path.join(directory, name))


def main(argv):
    command, directory = argv[1], argv[2]
    f64, i64 = np.dtype('<f8'), np.dtype('<i8')
    if command == 'ang2pix':
        theta, phi = read(directory, 'theta.f64', f64), read(directory, 'phi.f64', f64)
        for order in map(int, argv[3:]):
            nside = 1 << order
            write(directory, f'nest_{order}.i64', hp.ang2pix(nside, theta, phi, nest=True), i64)
            write(directory, f'ring_{order}.i64', hp.ang2pix(nside, theta, phi, nest=False), i64)
    elif command == 'radec2pix':
        ra, dec = read(directory, 'ra.f64', f64), read(directory, 'dec.f64', f64)
        for order in map(int, argv[3:]):
            nside = 1 << order
            write(directory, f'nest_{order}.i64', hp.ang2pix(nside, ra, dec, nest=True, lonlat=True), i64)
            write(directory, f'ring_{order}.i64', hp.ang2pix(nside, ra, dec, nest=False, lonlat=True), i64)
    elif command == 'pixels':
        order = int(argv[3])
        nside = 1 << order
        pix = read(directory, 'pix.i64', i64)
        for scheme, nest in (('nest', True), ('ring', False)):
            theta, phi = hp.pix2ang(nside, pix, nest=nest)
            write(directory, f'{scheme}_theta.f64', theta, f64)
            write(directory, f'{scheme}_phi.f64', phi, f64)
        write(directory, 'nest2ring.i64', hp.nest2ring(nside, pix), i64)
        write(directory, 'ring2nest.i64', hp.ring2nest(nside, pix), i64)
        # get_all_neighbours gives shape (8, n); store pixel-major.
        write(directory, 'neighbours.i64', hp.get_all_neighbours(nside, pix, nest=True).T, i64)
    elif command == 'disc':
        order = int(argv[3])
        nside = 1 << order
        discs = read(directory, 'discs.f64', f64).reshape(-1, 3)
        counts, pixels = [], []
        for theta, phi, radius in discs:
            found = hp.query_disc(nside, hp.ang2vec(theta, phi), radius, inclusive=True, nest=True)
            counts.append(len(found))
            pixels.append(found)
        write(directory, 'disc_counts.i64', counts, i64)
        write(directory, 'disc_pixels.i64', np.concatenate(pixels) if pixels else [], i64)
    else:
        raise SystemExit(f'unknown command {command}')


if __name__ == '__main__':
    main(sys.argv)
