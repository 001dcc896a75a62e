//! Dead input elements. An element of the input bus that no layer reads — a feature whose every
//! weight is zero, often after HGQ2's pruning — is taken off the bus, and the prologue's
//! selection ([`Prologue::select`]) keeps the float-to-bus conversion in step, so the bus has the
//! width of what the model uses (as da4ml's has).
//!
//! Expects the input to be read only by linear layers that read nothing else (their rows index
//! the input's elements); otherwise it leaves the model as it is. Run on models whose input
//! quantizer is Tachyon's `FixedQuant` (HGQ2-style): the bus becomes a flat list, which the
//! stream style of an image model could not take.
//!
//! Before: `input t0 [16]: 16 elements`, `t2 = linear t0` whose rows read elements 0..=11
//! After:  `input t0 [12]: 12 elements`, the rows renumbered, `select` = 0..=11.
//!
//! [`Prologue::select`]: crate::qir::Prologue::select

use crate::qir::{LayerKind, QModel};

pub fn prune_inputs(m: &mut QModel) {
    let input = m.input;
    if m.output == input {
        return;
    }
    let readers = m.readers(input);
    let linear_only =
        readers.iter().all(|&k| m.layers[k].inputs == [input] && matches!(m.layers[k].kind, LayerKind::Linear { .. }));
    if readers.is_empty() || !linear_only {
        return;
    }
    let n = m.tensor(input).elems.len();
    let mut used = vec![false; n];
    for &k in &readers {
        if let LayerKind::Linear { rows, .. } = &m.layers[k].kind {
            for &(j, c) in rows.iter().flatten() {
                if c != 0 {
                    used[j as usize] = true;
                }
            }
        }
    }
    if used.iter().all(|&u| u) {
        return;
    }
    let mut keep: Vec<u32> = (0..n as u32).filter(|&j| used[j as usize]).collect();
    if keep.is_empty() {
        keep.push(0); // a constant design still has a (one-element) bus
    }
    let mut pos = vec![None; n];
    for (p, &j) in keep.iter().enumerate() {
        pos[j as usize] = Some(p as u32);
    }
    for &k in &readers {
        if let LayerKind::Linear { rows, .. } = &mut m.layers[k].kind {
            for row in rows.iter_mut() {
                row.retain(|&(j, c)| c != 0 && pos[j as usize].is_some());
                for e in row.iter_mut() {
                    e.0 = pos[e.0 as usize].unwrap_or(0);
                }
            }
        }
    }
    let t = &mut m.tensors[input.0 as usize];
    t.elems = keep.iter().map(|&j| t.elems[j as usize]).collect();
    t.shape = vec![keep.len()];
    m.prologue.select = Some(match &m.prologue.select {
        None => keep,
        Some(sel) => keep.iter().map(|&j| sel[j as usize]).collect(),
    });
}
