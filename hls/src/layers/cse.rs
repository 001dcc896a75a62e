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

use queue::Queue;
use std::cmp::Reverse;
use std::collections::HashMap;
use table::{pair_key, unpack, Key, Slot, Table, MAX_SHIFT, MAX_VARS};
use tachyon_quantize::fixed::bits_for;

mod queue;
mod table;

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

/// How the greedy search orders the patterns seen at least twice. The greedy choice is not
/// optimal under any of them, and which one gives the fewest LUTs depends on the matrix and on
/// the adder trees built after it; small designs are synthesized under each
/// ([`crate::synthesize`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Ranking {
    /// The LUTs a pattern saves: computing it once instead of `count` times saves `count − 1`
    /// adders of its cost; patterns whose operands do not overlap (pure wiring) still save an
    /// adder's carry chain, so they rank last but are taken.
    #[default]
    Saving,
    /// As [`Ranking::Saving`], with the carry chain of an adder weighed as much as a LUT:
    /// frequent narrow patterns rise above rare wide ones.
    Even,
    /// The most frequent pattern first, whatever its width.
    Count,
}

impl Ranking {
    /// Every ranking, the default first.
    pub const ALL: [Ranking; 3] = [Ranking::Saving, Ranking::Even, Ranking::Count];
}

/// Priority of a pattern seen `count` times under `ranking`.
fn score(ranking: Ranking, ranges: &[(i128, i128)], p: &Shared, count: i64) -> i64 {
    match ranking {
        Ranking::Saving => (count - 1) * (4 * pattern_cost(ranges, p) + 1),
        Ranking::Even => (count - 1) * (pattern_cost(ranges, p) + 1),
        Ranking::Count => count,
    }
}

/// The plans already made, by their inputs. The synthesis driver lowers the same layers several
/// times while it tunes adder trees (see [`crate::synthesize`]), and a plan depends on nothing
/// but its input ranges and rows, so the driver creates one cache per synthesis and hands it
/// down through the [`crate::pipeline::Builder`]. A cached plan is the plan [`eliminate`]
/// returns: the cache changes the speed, never the design.
#[derive(Debug, Default)]
pub struct PlanCache {
    plans: HashMap<PlanKey, Plan>,
    /// The ranking of every plan made here.
    ranking: Ranking,
}

type PlanKey = (Vec<(i128, i128)>, Vec<Vec<Digit>>);

/// At most this many plans are kept (the cache starts over beyond it).
const PLAN_CACHE_SIZE: usize = 4096;

impl PlanCache {
    /// An empty cache whose plans rank patterns by `ranking`.
    pub fn new(ranking: Ranking) -> PlanCache {
        PlanCache { plans: HashMap::new(), ranking }
    }

    /// [`eliminate`], cached.
    pub fn plan(&mut self, inputs: &[(i128, i128)], rows: Vec<Vec<Digit>>) -> Plan {
        let key = (inputs.to_vec(), rows);
        if let Some(p) = self.plans.get(&key) {
            return p.clone();
        }
        let plan = eliminate_ranked(inputs, key.1.clone(), self.ranking);
        if self.plans.len() > PLAN_CACHE_SIZE {
            self.plans.clear();
        }
        self.plans.insert(key, plan.clone());
        plan
    }
}

/// Rows of at most this many digits are searched whole. Longer rows (a dense layer of more
/// than ~350 8-bit inputs) make the pair search quadratic in their length, so a matrix with one
/// is split into blocks of consecutive inputs, each row into one part per block, the parts
/// searched as rows (patterns are shared across rows and parts, but never formed across
/// blocks) and put back together in block order. Above every row the shipped examples and
/// `../shared/models` have (the longest: 631 digits, the calorimeter CNN), so their plans are
/// those of the whole search.
pub const WHOLE_ROW_DIGITS: usize = 1024;

/// Greedy CSE over `rows` of digits; variables `0..inputs.len()` are the inputs, with their
/// exact integer ranges, and every digit names an input. See [`search`]; rows longer than
/// [`WHOLE_ROW_DIGITS`] are searched in blocks of inputs.
pub fn eliminate(inputs: &[(i128, i128)], rows: Vec<Vec<Digit>>) -> Plan {
    eliminate_ranked(inputs, rows, Ranking::Saving)
}

/// [`eliminate`] with the patterns ranked by `ranking`.
pub fn eliminate_ranked(inputs: &[(i128, i128)], rows: Vec<Vec<Digit>>, ranking: Ranking) -> Plan {
    let longest = rows.iter().map(Vec::len).max().unwrap_or(0);
    if longest <= WHOLE_ROW_DIGITS {
        return search(inputs, rows, ranking);
    }
    let blocks = longest.div_ceil(WHOLE_ROW_DIGITS);
    let width = inputs.len().div_ceil(blocks);
    let parts =
        rows.iter().flat_map(|r| (0..blocks).map(move |b| r.iter().filter(|d| d.var / width == b).copied().collect()));
    let plan = search(inputs, parts.collect(), ranking);
    Plan { shared: plan.shared, rows: plan.rows.chunks(blocks).map(|c| c.concat()).collect() }
}

/// The greedy search over whole rows.
///
/// Each step takes the pattern of highest [`score`] under `ranking` among those seen at least
/// twice (ties: the higher count, then the smaller pattern) and replaces, row by row, the first
/// pair of digits (in row order) that forms it, again and again until none is left; the
/// replaced pair leaves the row and the pattern's digit is appended to it. The pair counts are
/// kept exactly and updated per replacement: removing two digits and adding one changes only
/// the pairs they are in, so a replacement costs one pass over its row. Rows are found through the list of where
/// each variable occurs, so a step touches only the rows that hold one of its variables.
fn search(inputs: &[(i128, i128)], rows: Vec<Vec<Digit>>, ranking: Ranking) -> Plan {
    let n_inputs = inputs.len();
    let total: usize = rows.iter().map(Vec::len).sum();
    assert!(n_inputs + total < MAX_VARS, "CSE: too many variables ({} inputs, {total} digits)", n_inputs);
    assert!(rows.iter().flatten().all(|d| d.var < n_inputs && d.shift < MAX_SHIFT), "CSE: digit out of range");
    let mut ranges = inputs.to_vec();
    let mut rows: Vec<Vec<Slot>> = rows.iter().map(|r| r.iter().map(Slot::of).collect()).collect();
    // Where each variable occurs, as (row, slot), in row order; entries of replaced digits are
    // dropped lazily.
    let mut occ: Vec<Vec<(u32, u32)>> = vec![vec![]; n_inputs];
    let mut table = Table::with_capacity(total.min(1 << 20));
    for (r, row) in rows.iter().enumerate() {
        for (s, d) in row.iter().enumerate() {
            occ[d.var as usize].push((r as u32, s as u32));
            for e in &row[s + 1..] {
                if let Some(k) = pair_key(*d, *e) {
                    table.add(k);
                }
            }
        }
    }
    let rank =
        |ranges: &[(i128, i128)], k: Key, c: u32| (score(ranking, ranges, &unpack(k), c as i64), (c, Reverse(k)));
    table.end_count();
    let mut heap = Queue::from_vec(table.all().map(|(k, c)| rank(&ranges, k, c)).collect());
    let mut shared = vec![];
    let (mut merged, mut group) = (vec![], vec![]);
    while let Some((_, (c, Reverse(k)))) = heap.pop() {
        let now = table.count(k);
        if now != c {
            // Stale: entries are pushed when a count rises, not when it falls, so a pattern's
            // best entry never ranks below its true one; re-queue it at its true rank.
            if now >= 2 {
                heap.push(rank(&ranges, k, now));
            }
            continue;
        }
        if c < 2 {
            break;
        }
        let p = unpack(k);
        let var = n_inputs + shared.len();
        ranges.truncate(var);
        ranges.push(pattern_range(&ranges, &p));
        occ.truncate(var);
        occ.push(vec![]);
        table.begin_step(var);
        let mut used = false;
        for v in [p.a, p.b] {
            occ[v].retain(|&(r, s)| rows[r as usize][s as usize].alive);
        }
        // The digits of either variable, by row, in row order.
        merged.clear();
        if p.a == p.b {
            merged.extend_from_slice(&occ[p.a]);
        } else {
            merge(&occ[p.a], &occ[p.b], &mut merged);
        }
        for run in merged.chunk_by(|x, y| x.0 == y.0) {
            let r = run[0].0;
            group.clear();
            group.extend(run.iter().map(|e| e.1));
            let row = &mut rows[r as usize];
            while let Some((i, j)) = first_pair(row, &group, k) {
                used = true;
                let h = replace(row, i, j, var, k, &mut table);
                occ[var].push((r, h));
            }
        }
        for (q, c) in table.end_step() {
            if c >= 2 {
                heap.push(rank(&ranges, q, c));
            }
        }
        if used {
            shared.push(p);
        } else {
            table.forget(k);
        }
    }
    let rows = rows.into_iter().map(|r| r.iter().filter(|d| d.alive).map(Slot::digit).collect()).collect();
    Plan { shared, rows }
}

/// Merges two lists sorted by (row, slot).
fn merge(a: &[(u32, u32)], b: &[(u32, u32)], out: &mut Vec<(u32, u32)>) {
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if a[i] <= b[j] {
            out.push(a[i]);
            i += 1;
        } else {
            out.push(b[j]);
            j += 1;
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
}

/// The first pair of live digits among `slots` (in row order) that forms pattern `k`.
fn first_pair(row: &[Slot], slots: &[u32], k: Key) -> Option<(u32, u32)> {
    for (x, &i) in slots.iter().enumerate() {
        let di = row[i as usize];
        if !di.alive {
            continue;
        }
        for &j in &slots[x + 1..] {
            let dj = row[j as usize];
            if dj.alive && pair_key(di, dj) == Some(k) {
                return Some((i, j));
            }
        }
    }
    None
}

/// Replaces the digits in slots `i` and `j` of `row`, which form pattern `k`, by one digit of
/// variable `var`, updating the counts of every pair they were or it is in; returns its slot.
fn replace(row: &mut Vec<Slot>, i: u32, j: u32, var: usize, k: Key, table: &mut Table) -> u32 {
    let (di, dj) = (row[i as usize], row[j as usize]);
    let lo = if (di.shift, di.var) <= (dj.shift, dj.var) { di } else { dj };
    let h = Slot { var: var as u32, shift: lo.shift, neg: lo.neg, alive: true };
    row[i as usize].alive = false;
    row[j as usize].alive = false;
    table.sub(k);
    for &dk in row.iter().filter(|d| d.alive) {
        for d in [di, dj] {
            if let Some(q) = pair_key(d, dk) {
                table.sub(q);
            }
        }
        if let Some(q) = pair_key(h, dk) {
            table.add_fresh(q);
        }
    }
    row.push(h);
    (row.len() - 1) as u32
}

#[cfg(test)]
mod tests;
