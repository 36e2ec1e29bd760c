//! The 52-bit geohash a geo set stores as each member's score, bit for bit
//! as Redis computes it (so a geo set written by redis-server reads back
//! here, and the other way round).
//!
//! A point is two fixed-point offsets in its ranges, longitude in
//! [-180, 180] and latitude in [-85.05112878, 85.05112878] (Web Mercator's
//! limits, not the poles), `step` bits each, interleaved: latitude on the
//! even bits, longitude on the odd ones. A cell of `step` bits is an area;
//! its 8 neighbours are found by adding or subtracting one on either axis
//! with the other axis's bits masked out. Decoding yields the cell's
//! centre, clamped to the ranges.
//!
//! Every function is pure arithmetic on `f64` and `u64`, in the same order
//! of operations as Redis's C, so the last bit of each result agrees.

/// Bits per axis of a stored score (26 + 26 = 52 bits, exact in an `f64`).
pub const STEP_MAX: u8 = 26;
/// Westmost longitude.
pub const LON_MIN: f64 = -180.0;
/// Eastmost longitude.
pub const LON_MAX: f64 = 180.0;
/// Southmost latitude (Web Mercator's limit).
pub const LAT_MIN: f64 = -85.05112878;
/// Northmost latitude.
pub const LAT_MAX: f64 = 85.05112878;

/// A closed interval of one axis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Range {
    /// Low end.
    pub min: f64,
    /// High end.
    pub max: f64,
}

/// The longitude range of stored scores.
pub const LON_RANGE: Range = Range {
    min: LON_MIN,
    max: LON_MAX,
};
/// The latitude range of stored scores.
pub const LAT_RANGE: Range = Range {
    min: LAT_MIN,
    max: LAT_MAX,
};

/// A cell: `step` bits per axis, interleaved in the low `2 * step` bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Cell {
    /// Interleaved bits.
    pub bits: u64,
    /// Bits per axis (0 with `bits` 0: no cell).
    pub step: u8,
}

impl Cell {
    /// The "no cell" marker (an excluded neighbour).
    pub const NONE: Cell = Cell { bits: 0, step: 0 };

    /// True for [`Cell::NONE`].
    pub fn is_none(&self) -> bool {
        self.bits == 0 && self.step == 0
    }

    /// The cell's first 52-bit score (its bits shifted to the top of 52).
    pub fn align52(&self) -> u64 {
        self.bits << (52 - u32::from(self.step) * 2)
    }

    /// The scores `[min, max)` every point inside this cell has.
    pub fn score_range(&self) -> (u64, u64) {
        let next = Cell {
            bits: self.bits.wrapping_add(1),
            step: self.step,
        };
        (self.align52(), next.align52())
    }
}

/// A cell's extent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Area {
    /// Longitude span.
    pub lon: Range,
    /// Latitude span.
    pub lat: Range,
}

/// Spread the low 32 bits of `v` to the even bits of a `u64`.
fn spread(v: u32) -> u64 {
    let mut x = u64::from(v);
    x = (x | (x << 16)) & 0x0000_FFFF_0000_FFFF;
    x = (x | (x << 8)) & 0x00FF_00FF_00FF_00FF;
    x = (x | (x << 4)) & 0x0F0F_0F0F_0F0F_0F0F;
    x = (x | (x << 2)) & 0x3333_3333_3333_3333;
    (x | (x << 1)) & 0x5555_5555_5555_5555
}

/// Gather the even bits of `v` into the low 32 bits.
fn gather(v: u64) -> u64 {
    let mut x = v & 0x5555_5555_5555_5555;
    x = (x | (x >> 1)) & 0x3333_3333_3333_3333;
    x = (x | (x >> 2)) & 0x0F0F_0F0F_0F0F_0F0F;
    x = (x | (x >> 4)) & 0x00FF_00FF_00FF_00FF;
    x = (x | (x >> 8)) & 0x0000_FFFF_0000_FFFF;
    (x | (x >> 16)) & 0x0000_0000_FFFF_FFFF
}

/// `lat` on the even bits, `lon` on the odd ones.
pub fn interleave(lat: u32, lon: u32) -> u64 {
    spread(lat) | (spread(lon) << 1)
}

/// The inverse of [`interleave`]: `(lat, lon)`.
pub fn deinterleave(bits: u64) -> (u32, u32) {
    (gather(bits) as u32, gather(bits >> 1) as u32)
}

/// The `step`-bit cell of a point in the given ranges; `None` outside them
/// (or outside the stored ranges, which bound every encoding).
pub fn encode_in(lon_r: Range, lat_r: Range, lon: f64, lat: f64, step: u8) -> Option<Cell> {
    if step == 0 || step > 32 {
        return None;
    }
    if !(LON_MIN..=LON_MAX).contains(&lon) || !(LAT_MIN..=LAT_MAX).contains(&lat) {
        return None;
    }
    if lat < lat_r.min || lat > lat_r.max || lon < lon_r.min || lon > lon_r.max {
        return None;
    }
    let scale = (1u64 << step) as f64;
    let lat_off = (lat - lat_r.min) / (lat_r.max - lat_r.min) * scale;
    let lon_off = (lon - lon_r.min) / (lon_r.max - lon_r.min) * scale;
    Some(Cell {
        bits: interleave(lat_off as u32, lon_off as u32),
        step,
    })
}

/// The `step`-bit cell of a valid point in the stored ranges.
pub fn encode(lon: f64, lat: f64, step: u8) -> Option<Cell> {
    encode_in(LON_RANGE, LAT_RANGE, lon, lat, step)
}

/// The 52-bit score of a point (`None` outside the stored ranges).
pub fn score_of(lon: f64, lat: f64) -> Option<u64> {
    encode(lon, lat, STEP_MAX).map(|c| c.align52())
}

/// The extent of `cell` in the stored ranges (`None` for [`Cell::NONE`]).
pub fn decode(cell: Cell) -> Option<Area> {
    if cell.is_none() {
        return None;
    }
    let (ilat, ilon) = deinterleave(cell.bits);
    let div = (1u64 << cell.step) as f64;
    let lat_scale = LAT_MAX - LAT_MIN;
    let lon_scale = LON_MAX - LON_MIN;
    // `+ 1` wraps in 32 bits, as C's unsigned arithmetic does.
    let at = |i: u32, min: f64, scale: f64| min + (f64::from(i) * 1.0 / div) * scale;
    Some(Area {
        lat: Range {
            min: at(ilat, LAT_MIN, lat_scale),
            max: at(ilat.wrapping_add(1), LAT_MIN, lat_scale),
        },
        lon: Range {
            min: at(ilon, LON_MIN, lon_scale),
            max: at(ilon.wrapping_add(1), LON_MIN, lon_scale),
        },
    })
}

/// The centre of `area`, clamped to the stored ranges: `(lon, lat)`.
pub fn centre(area: &Area) -> (f64, f64) {
    let lon = ((area.lon.min + area.lon.max) / 2.0).clamp(LON_MIN, LON_MAX);
    let lat = ((area.lat.min + area.lat.max) / 2.0).clamp(LAT_MIN, LAT_MAX);
    (lon, lat)
}

/// A sorted-set score as the unsigned integer x86-64's C conversion gives
/// (what Redis decodes): truncated, negative values wrapping, and out of
/// range values the CPU's "indefinite" answer.
pub fn score_bits(score: f64) -> u64 {
    const TWO63: f64 = 9_223_372_036_854_775_808.0;
    let indefinite = 1u64 << 63;
    let signed = |v: f64| {
        if !(-TWO63..TWO63).contains(&v) {
            indefinite
        } else {
            v as i64 as u64
        }
    };
    if score >= TWO63 {
        signed(score - TWO63) ^ (1 << 63)
    } else {
        signed(score)
    }
}

/// The position a score stands for: `(lon, lat)` of its 26-bit cell's centre.
pub fn position(score: f64) -> (f64, f64) {
    let cell = Cell {
        bits: score_bits(score),
        step: STEP_MAX,
    };
    match decode(cell) {
        Some(a) => centre(&a),
        None => (0.0, 0.0), // step is never 0: unreachable
    }
}

/// The 11-character standard geohash (latitude range ±90) of a score, as
/// `GEOHASH` answers (the 11th character is always `0`: 52 bits).
pub fn standard_hash(score: f64) -> [u8; 11] {
    const ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";
    let (lon, lat) = position(score);
    let world = Range {
        min: -90.0,
        max: 90.0,
    };
    let bits = encode_in(LON_RANGE, world, lon, lat, STEP_MAX).map_or(0, |c| c.bits);
    let mut out = [b'0'; 11];
    for (i, ch) in out.iter_mut().enumerate().take(10) {
        let idx = (bits >> (52 - (i + 1) * 5)) & 0x1f;
        *ch = ALPHABET[idx as usize];
    }
    out
}

/// Move `bits` one cell along the axis whose bits are `axis` (odd bits:
/// longitude, even: latitude), wrapping around.
fn step_axis(cell: &mut Cell, axis: u64, up: bool) {
    let width = 64 - u32::from(cell.step) * 2;
    let mine = cell.bits & axis;
    let other = cell.bits & !axis;
    // The other axis's bits, all ones, carry a +1 across them.
    let filler = !axis >> width;
    let moved = if up {
        mine.wrapping_add(filler + 1)
    } else {
        (mine | filler).wrapping_sub(filler + 1)
    };
    cell.bits = (moved & (axis >> width)) | other;
}

const LON_BITS: u64 = 0xaaaa_aaaa_aaaa_aaaa;
const LAT_BITS: u64 = 0x5555_5555_5555_5555;

/// `cell` moved `dx` cells east and `dy` north (each -1, 0 or 1).
pub fn shifted(cell: Cell, dx: i8, dy: i8) -> Cell {
    let mut c = cell;
    if dx != 0 {
        step_axis(&mut c, LON_BITS, dx > 0);
    }
    if dy != 0 {
        step_axis(&mut c, LAT_BITS, dy > 0);
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interleave_round_trips() {
        for (a, b) in [
            (0u32, 0u32),
            (1, 0),
            (0, 1),
            (0x3ff_ffff, 0x155_5555),
            (u32::MAX, 7),
        ] {
            assert_eq!(deinterleave(interleave(a, b)), (a, b));
        }
        assert_eq!(interleave(1, 0), 1);
        assert_eq!(interleave(0, 1), 2);
    }

    #[test]
    fn scores_are_redis_scores() {
        // GEOADD Sicily 13.361389 38.115556 "Palermo" / 15.087269 37.502669 "Catania"
        assert_eq!(score_of(13.361389, 38.115556), Some(3479099956230698));
        assert_eq!(score_of(15.087269, 37.502669), Some(3479447370796909));
        assert_eq!(score_of(181.0, 0.0), None);
        assert_eq!(score_of(0.0, 85.06), None);
        let (lon, lat) = position(3479099956230698.0);
        assert_eq!(format!("{lon:.17}"), "13.36138933897018433");
        assert_eq!(format!("{lat:.17}"), "38.11555639549629859");
        assert_eq!(&standard_hash(3479099956230698.0), b"sqc8b49rny0");
        assert_eq!(&standard_hash(3479447370796909.0), b"sqdtr74hyu0");
    }

    #[test]
    fn neighbours_wrap() {
        let c = Cell { bits: 0, step: 1 };
        assert_eq!(shifted(c, 1, 0), Cell { bits: 2, step: 1 });
        assert_eq!(shifted(c, -1, 0), Cell { bits: 2, step: 1 });
        assert_eq!(shifted(c, 0, 1), Cell { bits: 1, step: 1 });
        assert_eq!(shifted(c, 1, 1), Cell { bits: 3, step: 1 });
        let c = Cell {
            bits: 0b0110,
            step: 2,
        };
        let back = shifted(shifted(c, 1, -1), -1, 1);
        assert_eq!(back, c);
    }

    #[test]
    fn odd_scores_decode_like_x86() {
        assert_eq!(score_bits(-1.0), u64::MAX);
        assert_eq!(score_bits(1e30), 0);
        assert_eq!(score_bits(-1e30), 1 << 63);
        assert_eq!(score_bits(3.9), 3);
        assert_eq!(score_bits(9_223_372_036_854_775_808.0), 1 << 63);
        // Any score decodes to some clamped position.
        let (lon, lat) = position(-1.0);
        assert!((LON_MIN..=LON_MAX).contains(&lon) && (LAT_MIN..=LAT_MAX).contains(&lat));
    }
}
