//! The order of a geo search's results, as Redis sorts them, so members at
//! the same distance come out in the same order too.
//!
//! All results wanted: a stable sort (glibc's `qsort` is a merge sort).
//! Only the first `k` (COUNT below the number found): Redis's `pqsort`, a
//! Bentley–McIlroy quicksort (median of three, or the ninther past 40
//! items; insertion sort below 7; equal keys gathered at both ends, then
//! swapped to the middle) that skips every partition lying wholly past
//! `k`. Equal distances land wherever its swaps put them, so it is
//! reproduced step for step. Partitions wait on an explicit stack, not
//! the call stack: an adversarial set cannot overflow it, and disjoint
//! partitions give the same result in any order.

use std::cmp::Ordering::{self, Equal, Greater, Less};

/// Sort `v` by `cmp` so that its first `k` items are the smallest, in
/// order (the rest in no useful order), exactly as Redis's
/// `pqsort(v, len, cmp, 0, k - 1)` leaves them; a stable full sort when
/// `k >= v.len()`.
pub fn sort_first<T>(v: &mut [T], k: usize, cmp: impl Fn(&T, &T) -> Ordering) {
    if k >= v.len() {
        v.sort_by(&cmp);
        return;
    }
    if k == 0 {
        return;
    }
    let mut todo = vec![(0usize, v.len())];
    while let Some((a, n)) = todo.pop() {
        partition_loop(v, a, n, k, &cmp, &mut todo);
    }
}

/// The index of the median of `v[a]`, `v[b]`, `v[c]`, chosen as BSD's
/// `med3` chooses.
fn med3<T>(v: &[T], a: usize, b: usize, c: usize, cmp: &impl Fn(&T, &T) -> Ordering) -> usize {
    if cmp(&v[a], &v[b]) == Less {
        if cmp(&v[b], &v[c]) == Less {
            b
        } else if cmp(&v[a], &v[c]) == Less {
            c
        } else {
            a
        }
    } else if cmp(&v[b], &v[c]) == Greater {
        b
    } else if cmp(&v[a], &v[c]) == Less {
        a
    } else {
        c
    }
}

/// Swap the `n` items from `a` with the `n` items from `b` (disjoint).
fn swap_block<T>(v: &mut [T], a: usize, b: usize, n: usize) {
    for i in 0..n {
        v.swap(a + i, b + i);
    }
}

/// Sort the `n` items from `a` as far as ranks below `k` need; the left
/// partitions it leaves go on `todo`.
fn partition_loop<T>(
    v: &mut [T],
    mut a: usize,
    mut n: usize,
    k: usize,
    cmp: &impl Fn(&T, &T) -> Ordering,
    todo: &mut Vec<(usize, usize)>,
) {
    loop {
        if n < 7 {
            for m in a + 1..a + n {
                let mut l = m;
                while l > a && cmp(&v[l - 1], &v[l]) == Greater {
                    v.swap(l, l - 1);
                    l -= 1;
                }
            }
            return;
        }
        let mut pm = a + n / 2;
        if n > 7 {
            let mut pl = a;
            let mut pn = a + n - 1;
            if n > 40 {
                let d = n / 8;
                pl = med3(v, pl, pl + d, pl + 2 * d, cmp);
                pm = med3(v, pm - d, pm, pm + d, cmp);
                pn = med3(v, pn - 2 * d, pn - d, pn, cmp);
            }
            pm = med3(v, pl, pm, pn, cmp);
        }
        v.swap(a, pm);
        // [a+1, pa): equal to the pivot; [pa, pb): less; (pc, pd]: greater;
        // (pd, end): equal.
        let (mut pa, mut pb) = (a + 1, a + 1);
        let (mut pc, mut pd) = (a + n - 1, a + n - 1);
        loop {
            while pb <= pc {
                match cmp(&v[pb], &v[a]) {
                    Greater => break,
                    Equal => {
                        v.swap(pa, pb);
                        pa += 1;
                    }
                    Less => {}
                }
                pb += 1;
            }
            while pb <= pc {
                match cmp(&v[pc], &v[a]) {
                    Less => break,
                    Equal => {
                        v.swap(pc, pd);
                        pd -= 1;
                    }
                    Greater => {}
                }
                pc -= 1;
            }
            if pb > pc {
                break;
            }
            v.swap(pb, pc);
            pb += 1;
            pc -= 1;
        }
        let end = a + n;
        let r = (pa - a).min(pb - pa);
        swap_block(v, a, pb - r, r);
        let r = (pd - pc).min(end - pd - 1);
        swap_block(v, pb, end - r, r);
        // Only partitions starting below rank k matter.
        let left = pb - pa;
        if left > 1 && a < k {
            todo.push((a, left));
        }
        let right = pd - pc;
        if right > 1 && end - right < k {
            a = end - right;
            n = right;
            continue;
        }
        return;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator (no dependency).
    fn lcg(seed: &mut u64) -> u64 {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        *seed >> 33
    }

    #[test]
    fn the_first_k_are_the_k_smallest_in_order() {
        let mut seed = 7;
        for len in [0usize, 1, 5, 6, 7, 8, 40, 41, 100, 1000] {
            for k in [1usize, 2, 3, 10, 50, 999] {
                let mut v: Vec<(u64, usize)> = (0..len).map(|i| (lcg(&mut seed) % 20, i)).collect();
                let mut want = v.clone();
                want.sort_by_key(|x| x.0);
                sort_first(&mut v, k, |x, y| x.0.cmp(&y.0));
                let k = k.min(len);
                let got: Vec<u64> = v[..k].iter().map(|x| x.0).collect();
                let want: Vec<u64> = want[..k].iter().map(|x| x.0).collect();
                assert_eq!(got, want, "len {len} k {k}");
                let mut ids: Vec<usize> = v.iter().map(|x| x.1).collect();
                ids.sort_unstable();
                assert!(ids.iter().copied().eq(0..len), "a permutation");
            }
        }
    }

    #[test]
    fn ties_land_where_redis_puts_them() {
        // Eight items, four of them tied (keys, original positions): the
        // result of BSD's partition, not of a stable sort.
        let mut v: Vec<(u32, char)> = "abcdefgh"
            .chars()
            .zip([5, 1, 1, 3, 1, 1, 0, 9])
            .map(|(c, k)| (k, c))
            .collect();
        sort_first(&mut v, 3, |x, y| x.0.cmp(&y.0));
        let first: String = v[..3].iter().map(|x| x.1).collect();
        assert_eq!(&first[..1], "g");
        // A full sort is stable.
        let mut w = vec![(1, 'a'), (0, 'b'), (1, 'c'), (0, 'd')];
        sort_first(&mut w, 4, |x, y| x.0.cmp(&y.0));
        assert_eq!(w, [(0, 'b'), (0, 'd'), (1, 'a'), (1, 'c')]);
    }

    #[test]
    fn sorted_and_reversed_inputs_do_not_recurse_deeply() {
        let mut v: Vec<u32> = (0..100_000).collect();
        sort_first(&mut v, 10, |x, y| y.cmp(x));
        assert_eq!(&v[..3], &[99_999, 99_998, 99_997]);
        let mut v = vec![3u32; 50_000];
        sort_first(&mut v, 5, |x, y| x.cmp(y));
        assert_eq!(&v[..5], &[3; 5]);
    }
}
