//! Common-subexpression elimination for constant matrix–vector products.
//!
//! Every coefficient is a list of signed power-of-two digits (CSD), so an output is a sum of
//! digit terms `±x_j·2^k`. Two terms of one row, `±x_a·2^s` and `±x_b·2^(s+d)`, form a pattern
//! `x_a ± x_b·2^d` (up to the common sign and shift). When a pattern occurs in two or more places
//! across the whole matrix, it is computed once by one adder and each occurrence becomes a single
//! term. Greedy: the most frequent pattern first (ties broken by the pattern itself, so the
//! result is deterministic), counts updated incrementally, until no pattern repeats.
//!
//! Before: `y0 = x0 + 2·x1 + 4·x2`, `y1 = x0 + 2·x1 − x3` (4 + 3 digits, 5 adders)
//! After:  `s = x0 + 2·x1`; `y0 = s + 4·x2`, `y1 = s − x3` (3 adders)

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use tachyon_quantize::fixed::bits_for;

/// `±var·2^shift`; variables `0..n_inputs` are inputs, later ones are [`Shared`] patterns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digit {
    pub var: usize,
    pub shift: u32,
    pub neg: bool,
}

/// A shared pattern: `var a + (neg ? −1 : 1) · var b · 2^d`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Shared {
    pub a: usize,
    pub b: usize,
    pub d: u32,
    pub neg: bool,
}

/// The result: shared patterns in creation order (pattern `k` is variable `n_inputs + k`) and
/// each row as a list of digits over inputs and patterns.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    pub shared: Vec<Shared>,
    pub rows: Vec<Vec<Digit>>,
}

/// The pattern formed by two digits of a row, with the sign and shift of the occurrence.
fn pattern(p: Digit, q: Digit) -> Option<(Shared, u32, bool)> {
    let (lo, hi) = if (p.shift, p.var) <= (q.shift, q.var) { (p, q) } else { (q, p) };
    if lo.var == hi.var && lo.shift == hi.shift {
        return None;
    }
    Some((Shared { a: lo.var, b: hi.var, d: hi.shift - lo.shift, neg: lo.neg != hi.neg }, lo.shift, lo.neg))
}

/// The exact range of a pattern's value from its operands' ranges.
fn pattern_range(ranges: &[(i128, i128)], p: &Shared) -> (i128, i128) {
    let (a, b) = (ranges[p.a], ranges[p.b]);
    let (blo, bhi) = (b.0 << p.d, b.1 << p.d);
    if p.neg {
        (a.0 - bhi, a.1 - blo)
    } else {
        (a.0 + blo, a.1 + bhi)
    }
}

/// LUTs of the adder that computes a pattern: the bit positions where both operands vary (a
/// signed operand varies up to the result's top bit through its sign extension).
fn pattern_cost(ranges: &[(i128, i128)], p: &Shared) -> i64 {
    let (a, b) = (ranges[p.a], ranges[p.b]);
    let (lo, hi) = pattern_range(ranges, p);
    let w = bits_for(lo, hi);
    let top = |r: (i128, i128), shift: u32| if r.0 < 0 { w } else { (bits_for(r.0, r.1) + shift).min(w) };
    (top(a, 0).min(top(b, p.d)) as i64 - p.d as i64).max(0)
}

/// Priority of a pattern seen `count` times: the LUTs it saves. Computing it once instead of
/// `count` times saves `count − 1` adders of its cost; patterns whose operands do not overlap
/// (pure wiring) still save an adder's carry chain, so they rank last but are taken.
fn score(ranges: &[(i128, i128)], p: &Shared, count: i64) -> i64 {
    (count - 1) * (4 * pattern_cost(ranges, p) + 1)
}

/// The plans already made, by their inputs. The synthesis driver lowers the same layers several
/// times while it tunes adder trees (see [`crate::synthesize`]), and a plan depends on nothing
/// but its input ranges and rows, so the driver creates one cache per synthesis and hands it
/// down through the [`crate::pipeline::Builder`]. A cached plan is the plan [`eliminate`]
/// returns: the cache changes the speed, never the design.
#[derive(Debug, Default)]
pub struct PlanCache {
    plans: HashMap<PlanKey, Plan>,
}

type PlanKey = (Vec<(i128, i128)>, Vec<Vec<Digit>>);

/// At most this many plans are kept (the cache starts over beyond it).
const PLAN_CACHE_SIZE: usize = 4096;

impl PlanCache {
    /// [`eliminate`], cached.
    pub fn plan(&mut self, inputs: &[(i128, i128)], rows: Vec<Vec<Digit>>) -> Plan {
        let key = (inputs.to_vec(), rows);
        if let Some(p) = self.plans.get(&key) {
            return p.clone();
        }
        let plan = eliminate(inputs, key.1.clone());
        if self.plans.len() > PLAN_CACHE_SIZE {
            self.plans.clear();
        }
        self.plans.insert(key, plan.clone());
        plan
    }
}

/// Greedy CSE over `rows` of digits; variables `0..inputs.len()` are the inputs, with their
/// exact integer ranges.
pub fn eliminate(inputs: &[(i128, i128)], rows: Vec<Vec<Digit>>) -> Plan {
    let n_inputs = inputs.len();
    let mut ranges = inputs.to_vec();
    let mut rows = rows;
    let mut counts: HashMap<Shared, i64> = HashMap::new();
    let count_row = |row: &[Digit], counts: &mut HashMap<Shared, i64>, delta: i64| {
        for i in 0..row.len() {
            for j in i + 1..row.len() {
                if let Some((p, _, _)) = pattern(row[i], row[j]) {
                    *counts.entry(p).or_insert(0) += delta;
                }
            }
        }
    };
    for r in &rows {
        count_row(r, &mut counts, 1);
    }
    let mut heap: BinaryHeap<(i64, i64, Reverse<Shared>)> =
        counts.iter().filter(|(_, &c)| c >= 2).map(|(&p, &c)| (score(&ranges, &p, c), c, Reverse(p))).collect();
    let mut shared = vec![];
    while let Some((_, c, Reverse(p))) = heap.pop() {
        let now = counts.get(&p).copied().unwrap_or(0);
        if now != c {
            // Stale: entries are pushed when a count rises, not when it falls, so a pattern's
            // best entry never ranks below its true one; re-queue it at its true rank.
            if now >= 2 {
                heap.push((score(&ranges, &p, now), now, Reverse(p)));
            }
            continue;
        }
        if c < 2 {
            break;
        }
        let var = n_inputs + shared.len();
        ranges.truncate(var);
        ranges.push(pattern_range(&ranges, &p));
        let mut used = false;
        // Count changes of this step, applied once at its end (nothing below reads the counts),
        // so a pattern touched in many rows is queued once, at its final count.
        let mut step: HashMap<Shared, i64> = HashMap::new();
        for row in rows.iter_mut() {
            if !row.iter().any(|d| d.var == p.a) || !row.iter().any(|d| d.var == p.b) {
                continue;
            }
            // Replace occurrences one at a time, updating the counts of the pairs they were in.
            loop {
                let mut found = None;
                'search: for i in 0..row.len() {
                    if row[i].var != p.a && row[i].var != p.b {
                        continue;
                    }
                    for j in i + 1..row.len() {
                        if row[j].var != p.a && row[j].var != p.b {
                            continue; // cannot pair into p
                        }
                        if let Some((q, shift, neg)) = pattern(row[i], row[j]) {
                            if q == p {
                                found = Some((i, j, shift, neg));
                                break 'search;
                            }
                        }
                    }
                }
                let Some((i, j, shift, neg)) = found else { break };
                used = true;
                let (di, dj) = (row[i], row[j]);
                for (k, &dk) in row.iter().enumerate() {
                    if k != i && k != j {
                        for d in [di, dj] {
                            if let Some((q, _, _)) = pattern(d, dk) {
                                *step.entry(q).or_insert(0) -= 1;
                            }
                        }
                    }
                }
                *step.entry(p).or_insert(0) -= 1;
                row.remove(j);
                row.remove(i);
                let h = Digit { var, shift, neg };
                for &dk in row.iter() {
                    if let Some((q, _, _)) = pattern(h, dk) {
                        *step.entry(q).or_insert(0) += 1;
                    }
                }
                row.push(h);
            }
        }
        // The heap orders its entries completely (score, count, pattern): the order they are
        // queued in changes nothing.
        let mut rises = vec![];
        for (q, delta) in step {
            if delta != 0 {
                let e = counts.entry(q).or_insert(0);
                *e += delta;
                if delta > 0 && *e >= 2 {
                    rises.push((score(&ranges, &q, *e), *e, Reverse(q)));
                }
            }
        }
        heap.extend(rises);
        if used {
            shared.push(p);
        } else {
            counts.insert(p, 0);
        }
    }
    Plan { shared, rows }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(plan: &Plan, n: usize, xs: &[i128], row: &[Digit]) -> i128 {
        let mut vals: Vec<i128> = xs.to_vec();
        for s in &plan.shared {
            let b = vals[s.b] << s.d;
            vals.push(if s.neg { vals[s.a] - b } else { vals[s.a] + b });
        }
        let _ = n;
        row.iter().map(|d| if d.neg { -(vals[d.var] << d.shift) } else { vals[d.var] << d.shift }).sum()
    }

    #[test]
    fn shares_and_preserves_values() {
        let d = |var, shift, neg| Digit { var, shift, neg };
        let rows = vec![
            vec![d(0, 0, false), d(1, 1, false), d(2, 2, false)],
            vec![d(0, 0, false), d(1, 1, false), d(3, 0, true)],
        ];
        let before: Vec<Vec<Digit>> = rows.clone();
        let plan = eliminate(&[(-8, 7); 4], rows);
        assert_eq!(plan.shared.len(), 1);
        assert_eq!(plan.rows.iter().map(|r| r.len()).sum::<usize>(), 4);
        let xs = [3, -5, 7, 11];
        for (b, a) in before.iter().zip(&plan.rows) {
            let direct: i128 =
                b.iter().map(|d| if d.neg { -(xs[d.var] << d.shift) } else { xs[d.var] << d.shift }).sum();
            assert_eq!(value(&plan, 4, &xs, a), direct);
        }
    }
}
