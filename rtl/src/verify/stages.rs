//! Pipeline balance: the stage of every signal (registers on every path from a data input),
//! agreement of operand stages at every assignment, and a common output latency.

use std::collections::VecDeque;

use super::error::{sig, VerifyError};
use super::graph::{cycle_text, find_cycle};
use crate::netlist::{Module, RegRole, SignalId, SignalKind};

/// Result of a successful [`crate::verify()`]: the pipeline stage of every signal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stages {
    /// Stage of each signal, indexed like `Module::signals`: data inputs are stage 0, a register
    /// adds one, an assignment takes the (common) stage of its operands. `None` for signals that
    /// do not depend on any data input (constants, `clk`, `rst`, and logic built only from them).
    pub per_signal: Vec<Option<u32>>,
    /// The common stage of all outputs that have one (the module's latency in clock cycles), or
    /// `None` if no output depends on a data input.
    pub latency: Option<u32>,
}

impl Stages {
    /// Stage of signal `id` (`None` if it has none or is out of range).
    pub fn stage(&self, id: SignalId) -> Option<u32> {
        self.per_signal.get(id.index()).copied().flatten()
    }
}

/// Edges of the stage graph: operand → destination (weight 0) and d → q (weight 1).
struct Graph {
    /// For each signal: (user signal, weight).
    users: Vec<Vec<(usize, u32)>>,
    /// For each signal: its inputs (operands of its assignment, or its register's d).
    preds: Vec<Vec<usize>>,
}

fn graph(m: &Module) -> Graph {
    let n = m.signals.len();
    let mut g = Graph { users: vec![Vec::new(); n], preds: vec![Vec::new(); n] };
    for a in &m.assigns {
        for o in a.expr.operands() {
            g.users[o.index()].push((a.dst.index(), 0));
            g.preds[a.dst.index()].push(o.index());
        }
    }
    for r in m.regs.iter().filter(|r| r.role == RegRole::Pipeline) {
        g.users[r.d.index()].push((r.q.index(), 1));
        g.preds[r.q.index()].push(r.d.index());
    }
    g
}

pub(crate) fn compute(m: &Module) -> Result<Stages, VerifyError> {
    let n = m.signals.len();
    let g = graph(m);
    let is_data_input = |i: usize| {
        m.signals[i].kind == SignalKind::Input
            && Some(i) != m.clk.map(SignalId::index)
            && Some(i) != m.rst.map(SignalId::index)
    };

    // State registers that declare a stage start paths of their own (their input is not a
    // pipeline edge).
    let mut staged_state = vec![false; n];
    for r in &m.regs {
        if let RegRole::State { stage: Some(_) } = r.role {
            staged_state[r.q.index()] = true;
        }
    }
    // Signals reachable from a data input.
    let mut reach = vec![false; n];
    let mut queue: VecDeque<usize> = (0..n).filter(|&i| is_data_input(i) || staged_state[i]).collect();
    for &i in &queue {
        reach[i] = true;
    }
    while let Some(i) = queue.pop_front() {
        for &(u, _) in &g.users[i] {
            if !reach[u] {
                reach[u] = true;
                queue.push_back(u);
            }
        }
    }

    // Topological order of the reachable subgraph (including register edges).
    let mut indeg = vec![0usize; n];
    for i in (0..n).filter(|&i| reach[i]) {
        indeg[i] = g.preds[i].iter().filter(|&&p| reach[p]).count();
    }
    let mut queue: VecDeque<usize> = (0..n).filter(|&i| reach[i] && indeg[i] == 0).collect();
    let mut stage: Vec<Option<u32>> = vec![None; n];
    let mut done = 0usize;
    while let Some(i) = queue.pop_front() {
        done += 1;
        stage[i] = stage_of(m, &g, &stage, i)?;
        for &(u, _) in &g.users[i] {
            indeg[u] -= 1;
            if indeg[u] == 0 {
                queue.push_back(u);
            }
        }
    }
    if done < reach.iter().filter(|&&r| r).count() {
        let start = (0..n).find(|&i| reach[i] && indeg[i] > 0).unwrap_or(0);
        let pred = |i: usize| g.preds[i].iter().copied().find(|&p| reach[p] && indeg[p] > 0);
        let path: Vec<SignalId> = find_cycle(start, pred).into_iter().map(|i| SignalId(i as u32)).collect();
        return Err(VerifyError::FeedbackLoop { path: cycle_text(m, &path) });
    }

    let mut latency: Option<(u32, SignalId)> = None;
    for &p in &m.ports {
        if m.signal(p).kind != SignalKind::Output {
            continue;
        }
        let Some(s) = stage[p.index()] else { continue };
        match latency {
            None => latency = Some((s, p)),
            Some((l, first)) if l != s => {
                return Err(VerifyError::OutputLatency { a: sig(m, first), stage_a: l, b: sig(m, p), stage_b: s });
            }
            _ => {}
        }
    }
    Ok(Stages { per_signal: stage, latency: latency.map(|(l, _)| l) })
}

/// Stage of reachable signal `i`, all of whose reachable predecessors are already staged.
fn stage_of(m: &Module, g: &Graph, stage: &[Option<u32>], i: usize) -> Result<Option<u32>, VerifyError> {
    match m.signals[i].kind {
        SignalKind::Input => Ok(Some(0)),
        SignalKind::Reg => match m.regs.iter().find(|r| r.q.index() == i).map(|r| r.role) {
            Some(RegRole::State { stage }) => Ok(stage),
            _ => Ok(g.preds[i].first().and_then(|&d| stage[d]).map(|s| s + 1)),
        },
        SignalKind::Output | SignalKind::Wire => {
            let mut common: Option<(u32, usize)> = None;
            for &p in &g.preds[i] {
                let Some(s) = stage[p] else { continue };
                match common {
                    None => common = Some((s, p)),
                    Some((c, first)) if c != s => {
                        let id = |x: usize| SignalId(x as u32);
                        return Err(VerifyError::Unbalanced {
                            dst: sig(m, id(i)),
                            a: sig(m, id(first)),
                            stage_a: c,
                            b: sig(m, id(p)),
                            stage_b: s,
                        });
                    }
                    _ => {}
                }
            }
            Ok(common.map(|(c, _)| c))
        }
    }
}
