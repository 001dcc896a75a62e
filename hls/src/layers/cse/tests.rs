//! Tests of the CSE: the plan preserves every row's value, and [`eliminate`] makes exactly the
//! plan of [`reference`], the straightforward greedy search it replaced (every pair of a row
//! recounted per replacement, counts in a hash map), on random matrices.

use super::*;
use crate::layers::linear::csd;
use proptest::prelude::*;
use std::collections::BinaryHeap;

/// The pattern formed by two digits of a row, with the sign and shift of the occurrence.
fn pattern(p: Digit, q: Digit) -> Option<(Shared, u32, bool)> {
    let (lo, hi) = if (p.shift, p.var) <= (q.shift, q.var) { (p, q) } else { (q, p) };
    if lo.var == hi.var && lo.shift == hi.shift {
        return None;
    }
    Some((Shared { a: lo.var, b: hi.var, d: hi.shift - lo.shift, neg: lo.neg != hi.neg }, lo.shift, lo.neg))
}

/// The greedy CSE as first written: the same plan as [`eliminate`], found by rescanning.
fn reference(inputs: &[(i128, i128)], rows: Vec<Vec<Digit>>) -> Plan {
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
    let mut heap: BinaryHeap<(i64, i64, Reverse<Shared>)> = counts
        .iter()
        .filter(|(_, &c)| c >= 2)
        .map(|(&p, &c)| (score(Ranking::Saving, &ranges, &p, c), c, Reverse(p)))
        .collect();
    let mut shared = vec![];
    while let Some((_, c, Reverse(p))) = heap.pop() {
        let now = counts.get(&p).copied().unwrap_or(0);
        if now != c {
            if now >= 2 {
                heap.push((score(Ranking::Saving, &ranges, &p, now), now, Reverse(p)));
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
        let mut step: HashMap<Shared, i64> = HashMap::new();
        for row in rows.iter_mut() {
            if !row.iter().any(|d| d.var == p.a) || !row.iter().any(|d| d.var == p.b) {
                continue;
            }
            loop {
                let mut found = None;
                'search: for i in 0..row.len() {
                    if row[i].var != p.a && row[i].var != p.b {
                        continue;
                    }
                    for j in i + 1..row.len() {
                        if row[j].var != p.a && row[j].var != p.b {
                            continue;
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
        let mut rises = vec![];
        for (q, delta) in step {
            if delta != 0 {
                let e = counts.entry(q).or_insert(0);
                *e += delta;
                if delta > 0 && *e >= 2 {
                    rises.push((score(Ranking::Saving, &ranges, &q, *e), *e, Reverse(q)));
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

fn digit_value(vals: &[i128], d: &Digit) -> i128 {
    if d.neg {
        -(vals[d.var] << d.shift)
    } else {
        vals[d.var] << d.shift
    }
}

/// Every row's value under `plan` equals its value before, at inputs `xs`.
fn assert_preserves(plan: &Plan, before: &[Vec<Digit>], xs: &[i128]) {
    let mut vals: Vec<i128> = xs.to_vec();
    for s in &plan.shared {
        let b = vals[s.b] << s.d;
        vals.push(if s.neg { vals[s.a] - b } else { vals[s.a] + b });
    }
    for (b, a) in before.iter().zip(&plan.rows) {
        let direct: i128 = b.iter().map(|d| digit_value(xs, d)).sum();
        assert_eq!(a.iter().map(|d| digit_value(&vals, d)).sum::<i128>(), direct);
    }
}

#[test]
fn shares_and_preserves_values() {
    let d = |var, shift, neg| Digit { var, shift, neg };
    let rows =
        vec![vec![d(0, 0, false), d(1, 1, false), d(2, 2, false)], vec![d(0, 0, false), d(1, 1, false), d(3, 0, true)]];
    let plan = eliminate(&[(-8, 7); 4], rows.clone());
    assert_eq!(plan.shared.len(), 1);
    assert_eq!(plan.rows.iter().map(|r| r.len()).sum::<usize>(), 4);
    assert_preserves(&plan, &rows, &[3, -5, 7, 11]);
}

#[test]
fn overlapping_occurrences_of_one_variable() {
    // x0·(1 + 2 + 4) twice: the pattern x0 + 2·x0 occurs twice per row, overlapping.
    let d = |shift| Digit { var: 0, shift, neg: false };
    let rows = vec![vec![d(0), d(1), d(2)], vec![d(2), d(1), d(0)]];
    let plan = eliminate(&[(-3, 5)], rows.clone());
    let want = reference(&[(-3, 5)], rows.clone());
    assert_eq!(plan.shared, want.shared);
    assert_eq!(plan.rows, want.rows);
    assert_preserves(&plan, &rows, &[-3]);
}

/// Input ranges: unsigned, signed or constant-sign negative.
fn ranges(n: usize) -> impl Strategy<Value = Vec<(i128, i128)>> {
    prop::collection::vec((-64i128..64, 0i128..128), n)
        .prop_map(|v| v.into_iter().map(|(lo, w)| (lo, lo + w)).collect())
}

/// Arbitrary digits (repeated and same-variable digits included).
fn raw_matrix() -> impl Strategy<Value = (Vec<(i128, i128)>, Vec<Vec<Digit>>)> {
    (1usize..6).prop_flat_map(|n| {
        let digit = (0..n, 0u32..6, any::<bool>()).prop_map(|(var, shift, neg)| Digit { var, shift, neg });
        (ranges(n), prop::collection::vec(prop::collection::vec(digit, 0..12), 1..7))
    })
}

/// Rows as a linear layer makes them: the CSD digits of random coefficients.
fn csd_matrix() -> impl Strategy<Value = (Vec<(i128, i128)>, Vec<Vec<Digit>>)> {
    (1usize..12, 1usize..12, 1u32..9).prop_flat_map(|(n, m, bits)| {
        let c = 1i128 << (bits - 1);
        let coeffs = prop::collection::vec(prop::collection::vec(-c..c, n), m);
        (ranges(n), coeffs).prop_map(|(ranges, coeffs)| {
            let rows = coeffs
                .iter()
                .map(|row| {
                    let digits = row
                        .iter()
                        .enumerate()
                        .flat_map(|(var, &c)| csd(c).into_iter().map(move |(shift, neg)| (var, shift, neg)));
                    digits.map(|(var, shift, neg)| Digit { var, shift, neg }).collect()
                })
                .collect();
            (ranges, rows)
        })
    })
}

/// `eliminate` makes the reference's plan, and the plan computes the rows at `xs`.
fn same_plan_as_reference(inputs: &[(i128, i128)], rows: Vec<Vec<Digit>>, xs: &[i128]) -> Result<(), TestCaseError> {
    let plan = eliminate(inputs, rows.clone());
    let want = reference(inputs, rows.clone());
    prop_assert_eq!(&plan.shared, &want.shared);
    prop_assert_eq!(&plan.rows, &want.rows);
    assert_preserves(&plan, &rows, xs);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn same_plan_as_reference_on_raw_digits((inputs, rows) in raw_matrix()) {
        let xs: Vec<i128> = inputs.iter().map(|r| r.1).collect();
        same_plan_as_reference(&inputs, rows, &xs)?;
    }

    #[test]
    fn same_plan_as_reference_on_csd_rows((inputs, rows) in csd_matrix()) {
        let xs: Vec<i128> = inputs.iter().map(|r| r.0).collect();
        same_plan_as_reference(&inputs, rows, &xs)?;
    }
}

proptest! {
    #[test]
    fn keys_order_as_patterns(p in (0usize..1 << 28, 0usize..1 << 28, 0u32..128, any::<bool>()), q in (0usize..1 << 28, 0usize..1 << 28, 0u32..128, any::<bool>())) {
        let [p, q] = [p, q].map(|(a, b, d, neg)| Shared { a, b, d, neg });
        prop_assert_eq!(table::unpack(table::pack(&p)), p);
        prop_assert_eq!(table::pack(&p).cmp(&table::pack(&q)), p.cmp(&q));
    }
}

/// A row longer than [`WHOLE_ROW_DIGITS`] is searched in blocks of inputs: the plan is the
/// whole search over the rows' parts, and every row keeps its value.
#[test]
fn long_rows_are_searched_in_blocks() {
    let n = 600;
    let coeffs = |r: usize| (0..n).map(move |j| ((j * 37 + r * 11) % 255) as i128 - 127);
    let rows: Vec<Vec<Digit>> = (0..4)
        .map(|r| {
            coeffs(r)
                .enumerate()
                .flat_map(|(var, c)| csd(c).into_iter().map(move |(shift, neg)| Digit { var, shift, neg }))
                .collect()
        })
        .collect();
    assert!(rows.iter().any(|r| r.len() > WHOLE_ROW_DIGITS));
    let inputs = vec![(-128, 127); n];
    let plan = eliminate(&inputs, rows.clone());
    let blocks = rows.iter().map(Vec::len).max().unwrap().div_ceil(WHOLE_ROW_DIGITS);
    let width = n.div_ceil(blocks);
    let parts: Vec<Vec<Digit>> = rows
        .iter()
        .flat_map(|r| (0..blocks).map(move |b| r.iter().filter(|d| d.var / width == b).copied().collect()))
        .collect();
    let whole = search(&inputs, parts, Ranking::Saving);
    assert_eq!(plan.shared, whole.shared);
    assert_eq!(plan.rows, whole.rows.chunks(blocks).map(|c| c.concat()).collect::<Vec<_>>());
    assert!(!plan.shared.is_empty());
    let xs: Vec<i128> = (0..n as i128).map(|j| j % 256 - 128).collect();
    assert_preserves(&plan, &rows, &xs);
}

/// The rankings differ where a wide pattern seen twice competes for a digit with a narrow one
/// seen three times: [`Ranking::Saving`] takes the wide one, [`Ranking::Count`] the frequent one,
/// and both plans compute the rows.
#[test]
fn rankings_differ_where_a_wide_pattern_competes_with_a_frequent_narrow_one() {
    let d = |var| Digit { var, shift: 0, neg: false };
    let inputs = [(-32768, 32767), (-32768, 32767), (0, 1)];
    let rows = vec![vec![d(0), d(1), d(2)], vec![d(0), d(1)], vec![d(1), d(2)], vec![d(1), d(2)]];
    let saving = eliminate_ranked(&inputs, rows.clone(), Ranking::Saving);
    let count = eliminate_ranked(&inputs, rows.clone(), Ranking::Count);
    assert_eq!(saving.shared[0], Shared { a: 0, b: 1, d: 0, neg: false });
    assert_eq!(count.shared[0], Shared { a: 1, b: 2, d: 0, neg: false });
    for plan in [&saving, &count] {
        assert_preserves(plan, &rows, &[-5, 7, 1]);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// Every ranking's plan computes the rows.
    #[test]
    fn every_ranking_preserves_the_rows((inputs, rows) in csd_matrix()) {
        let xs: Vec<i128> = inputs.iter().map(|r| r.1).collect();
        for ranking in Ranking::ALL {
            assert_preserves(&eliminate_ranked(&inputs, rows.clone(), ranking), &rows, &xs);
        }
    }
}
