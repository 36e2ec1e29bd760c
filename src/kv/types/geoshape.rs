//! Search shapes over geohash cells, as Redis's GEOSEARCH and GEORADIUS
//! find them: a circle (radius) or an axis-aligned box (width × height)
//! around a centre, distances on a sphere (haversine, Redis's Earth
//! radius), and the nine cells (a centre cell and its neighbours, some
//! excluded) whose score ranges cover the shape.
//!
//! The cell size comes from the radius (one bit per halving of the
//! Mercator width), one bit coarser near the poles and when the shape
//! would spill past the neighbours; neighbours the shape cannot reach are
//! dropped. The same floating-point steps as Redis keep borderline points
//! on the same side of the line.

use super::geohash::{self, Area, Cell, STEP_MAX};

/// Earth's quadratic mean radius for WGS-84, in metres (Redis's constant).
pub const EARTH_RADIUS_M: f64 = 6372797.560856;
const MERCATOR_MAX: f64 = 20037726.37;
const D_R: f64 = std::f64::consts::PI / 180.0;

fn rad(deg: f64) -> f64 {
    deg * D_R
}

fn deg(rad: f64) -> f64 {
    rad / D_R
}

/// The shape's extent, in its unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Extent {
    /// BYRADIUS / GEORADIUS.
    Radius(f64),
    /// BYBOX width height.
    Box {
        /// East-west.
        width: f64,
        /// North-south.
        height: f64,
    },
}

/// A search area: centre, extent and the unit's size in metres.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shape {
    /// Centre longitude.
    pub lon: f64,
    /// Centre latitude.
    pub lat: f64,
    /// Size.
    pub extent: Extent,
    /// Metres per unit (`m` 1, `km` 1000, `ft` 0.3048, `mi` 1609.34).
    pub unit: f64,
}

/// Metres per unit for a unit name (any case), or `None`.
pub fn unit(name: &[u8]) -> Option<f64> {
    let n = name.to_ascii_lowercase();
    match &n[..] {
        b"m" => Some(1.0),
        b"km" => Some(1000.0),
        b"ft" => Some(0.3048),
        b"mi" => Some(1609.34),
        _ => None,
    }
}

/// Great-circle distance along a meridian, in metres.
pub fn lat_distance(lat1: f64, lat2: f64) -> f64 {
    EARTH_RADIUS_M * (rad(lat2) - rad(lat1)).abs()
}

/// Great-circle (haversine) distance between two points, in metres.
pub fn distance(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    let v = ((rad(lon2) - rad(lon1)) / 2.0).sin();
    if v == 0.0 {
        return lat_distance(lat1, lat2);
    }
    let (lat1r, lat2r) = (rad(lat1), rad(lat2));
    let u = ((lat2r - lat1r) / 2.0).sin();
    let a = u * u + lat1r.cos() * lat2r.cos() * v * v;
    2.0 * EARTH_RADIUS_M * a.sqrt().asin()
}

impl Shape {
    /// Half the height and half the width, in metres.
    fn half_sizes(&self) -> (f64, f64) {
        match self.extent {
            Extent::Radius(r) => (self.unit * r, self.unit * r),
            Extent::Box { width, height } => {
                (self.unit * (height / 2.0), self.unit * (width / 2.0))
            }
        }
    }

    /// `[min_lon, min_lat, max_lon, max_lat]` enclosing the shape (the
    /// longitude span measured at the latitude edge nearer the pole).
    pub fn bounds(&self) -> [f64; 4] {
        let (height, width) = self.half_sizes();
        let lat_delta = deg(height / EARTH_RADIUS_M);
        let top = deg(width / EARTH_RADIUS_M / rad(self.lat + lat_delta).cos());
        let bottom = deg(width / EARTH_RADIUS_M / rad(self.lat - lat_delta).cos());
        let lon_delta = if self.lat < 0.0 { bottom } else { top };
        [
            self.lon - lon_delta,
            self.lat - lat_delta,
            self.lon + lon_delta,
            self.lat + lat_delta,
        ]
    }

    /// The distance from the centre to the farthest point, in metres.
    fn reach(&self) -> f64 {
        let r = match self.extent {
            Extent::Radius(r) => r,
            Extent::Box { width, height } => {
                ((width / 2.0) * (width / 2.0) + (height / 2.0) * (height / 2.0)).sqrt()
            }
        };
        r * self.unit
    }

    /// The distance of a point from the centre (metres) if it is inside.
    pub fn contains(&self, lon: f64, lat: f64) -> Option<f64> {
        match self.extent {
            Extent::Radius(r) => {
                let d = distance(self.lon, self.lat, lon, lat);
                (d <= r * self.unit).then_some(d)
            }
            Extent::Box { width, height } => {
                let (w, h) = (width * self.unit, height * self.unit);
                if lat_distance(lat, self.lat) > h / 2.0 {
                    return None;
                }
                if distance(lon, lat, self.lon, lat) > w / 2.0 {
                    return None;
                }
                Some(distance(self.lon, self.lat, lon, lat))
            }
        }
    }

    /// The cells to scan, in Redis's order: centre, N, S, E, W, NE, NW,
    /// SE, SW ([`Cell::NONE`] for an excluded neighbour).
    pub fn cells(&self) -> [Cell; 9] {
        let [min_lon, min_lat, max_lon, max_lat] = self.bounds();
        let mut step = steps_for(self.reach(), self.lat);
        let at = |step: u8| {
            let c = geohash::encode(self.lon, self.lat, step).unwrap_or(Cell::NONE);
            (c, geohash::decode(c))
        };
        let (mut cell, mut area) = at(step);
        let side = |dx: i8, dy: i8| geohash::decode(geohash::shifted(cell, dx, dy));
        // A neighbour that does not reach the shape's edge: one bit coarser.
        let too_fine = side(0, 1).is_some_and(|a| a.lat.max < max_lat)
            || side(0, -1).is_some_and(|a| a.lat.min > min_lat)
            || side(1, 0).is_some_and(|a| a.lon.max < max_lon)
            || side(-1, 0).is_some_and(|a| a.lon.min > min_lon);
        if step > 1 && too_fine {
            step -= 1;
            (cell, area) = at(step);
        }
        let n = |dx, dy| geohash::shifted(cell, dx, dy);
        let mut cells = [
            cell,
            n(0, 1),
            n(0, -1),
            n(1, 0),
            n(-1, 0),
            n(1, 1),
            n(-1, 1),
            n(1, -1),
            n(-1, -1),
        ];
        if step >= 2 {
            if let Some(a) = area {
                drop_useless(&mut cells, &a, [min_lon, min_lat, max_lon, max_lat]);
            }
        }
        cells
    }
}

/// Drop the neighbours on a side the centre cell already covers.
fn drop_useless(cells: &mut [Cell; 9], a: &Area, b: [f64; 4]) {
    let [min_lon, min_lat, max_lon, max_lat] = b;
    let mut drop = |idx: [usize; 3]| idx.iter().for_each(|&i| cells[i] = Cell::NONE);
    if a.lat.min < min_lat {
        drop([2, 8, 7]); // south, south-west, south-east
    }
    if a.lat.max > max_lat {
        drop([1, 5, 6]); // north, north-east, north-west
    }
    if a.lon.min < min_lon {
        drop([4, 8, 6]); // west, south-west, north-west
    }
    if a.lon.max > max_lon {
        drop([3, 7, 5]); // east, south-east, north-east
    }
}

/// Bits per axis of the cells for a search reaching `metres` around `lat`.
pub fn steps_for(metres: f64, lat: f64) -> u8 {
    if metres == 0.0 {
        return STEP_MAX;
    }
    let mut range = metres;
    let mut step: i32 = 1;
    while range < MERCATOR_MAX {
        range *= 2.0;
        step += 1;
    }
    step -= 2;
    if !(-66.0..=66.0).contains(&lat) {
        step -= 1;
        if !(-80.0..=80.0).contains(&lat) {
            step -= 1;
        }
    }
    step.clamp(1, i32::from(STEP_MAX)) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_are_redis_distances() {
        // GEODIST Sicily Palermo Catania: "166274.1516" (from decoded positions).
        let (a, b) = (
            geohash::position(3479099956230698.0),
            geohash::position(3479447370796909.0),
        );
        let d = distance(a.0, a.1, b.0, b.1);
        assert_eq!(format!("{:.4}", d), "166274.1516");
        assert_eq!(lat_distance(0.0, 0.0), 0.0);
    }

    #[test]
    fn steps_shrink_with_reach_and_poles() {
        assert_eq!(steps_for(0.0, 0.0), 26);
        assert_eq!(steps_for(1.0, 0.0), 24);
        assert_eq!(steps_for(1e9, 0.0), 1);
        assert_eq!(steps_for(1.0, 70.0), 23);
        assert_eq!(steps_for(1.0, -81.0), 22);
        assert_eq!(steps_for(f64::INFINITY, 0.0), 1);
    }

    #[test]
    fn huge_shapes_cover_the_world_with_duplicates() {
        let s = Shape {
            lon: 0.0,
            lat: 0.0,
            extent: Extent::Radius(1e12),
            unit: 1000.0,
        };
        let cells = s.cells();
        assert!(cells.iter().all(|c| c.step == 1));
        assert_eq!(s.contains(179.0, 80.0).map(|d| d > 0.0), Some(true));
    }

    #[test]
    fn units() {
        assert_eq!(unit(b"KM"), Some(1000.0));
        assert_eq!(unit(b"mi"), Some(1609.34));
        assert_eq!(unit(b"yd"), None);
    }
}
