//! Combinational ordering: a topological order of the assignments (registers cut every path),
//! or the combinational loop that prevents one. The simulator evaluates assignments in this
//! order.

use std::collections::VecDeque;

use super::error::{sig, VerifyError};
use crate::netlist::{Module, SignalId};

/// Indices into `m.assigns` such that every assignment comes after the assignments driving its
/// operands. Requires in-range ids and at most one assignment per signal.
pub(crate) fn comb_order(m: &Module) -> Result<Vec<usize>, VerifyError> {
    let n = m.assigns.len();
    let mut driver: Vec<Option<usize>> = vec![None; m.signals.len()];
    for (i, a) in m.assigns.iter().enumerate() {
        driver[a.dst.index()] = Some(i);
    }
    let mut users: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut indeg = vec![0usize; n];
    for (i, a) in m.assigns.iter().enumerate() {
        for o in a.expr.operands() {
            if let Some(j) = driver[o.index()] {
                users[j].push(i);
                indeg[i] += 1;
            }
        }
    }
    let mut queue: VecDeque<usize> = (0..n).filter(|&i| indeg[i] == 0).collect();
    let mut order = Vec::with_capacity(n);
    while let Some(i) = queue.pop_front() {
        order.push(i);
        for &u in &users[i] {
            indeg[u] -= 1;
            if indeg[u] == 0 {
                queue.push_back(u);
            }
        }
    }
    if order.len() == n {
        return Ok(order);
    }
    // Walk backwards through unfinished assignments: each has an unfinished driver operand.
    let start = (0..n).find(|&i| indeg[i] > 0).unwrap_or(0);
    let pred =
        |i: usize| m.assigns[i].expr.operands().into_iter().filter_map(|o| driver[o.index()]).find(|&j| indeg[j] > 0);
    let path = find_cycle(start, pred).into_iter().map(|i| m.assigns[i].dst).collect::<Vec<_>>();
    Err(VerifyError::CombLoop { path: cycle_text(m, &path) })
}

/// Follows `pred` from `start` until a node repeats and returns the cycle in forward
/// (driver → user) order.
pub(crate) fn find_cycle(start: usize, pred: impl Fn(usize) -> Option<usize>) -> Vec<usize> {
    let mut walk = vec![start];
    let mut cur = start;
    while let Some(p) = pred(cur) {
        if let Some(pos) = walk.iter().position(|&w| w == p) {
            let mut cycle = walk[pos..].to_vec();
            cycle.reverse();
            return cycle;
        }
        walk.push(p);
        cur = p;
    }
    walk.reverse();
    walk
}

/// `` `a` (s1) -> `b` (s2) -> `a` (s1) ``.
pub(crate) fn cycle_text(m: &Module, path: &[SignalId]) -> String {
    let mut parts: Vec<String> = path.iter().map(|&s| sig(m, s)).collect();
    if let Some(first) = parts.first().cloned() {
        parts.push(first);
    }
    parts.join(" -> ")
}
