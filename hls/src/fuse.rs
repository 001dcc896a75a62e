//! Ternary fusion: a binary adder whose every reader is a binary adder in the same stage is
//! folded into its readers, each of which becomes a ternary adder ([`Expr::Add3`]) over the two
//! operands of the folded one and its own other operand.
//!
//! On UltraScale a ternary adder costs the LUTs of a binary one, so each fold saves the folded
//! adder's LUTs (one per bit) and a carry chain on the path: `(a ± b) ± c` becomes `a ± b ± c`.
//! The adders that fold are mostly the shared patterns of common-subexpression elimination,
//! which are binary by construction, read by other patterns or by the last binary adder of a
//! row's tree.
//!
//! A fold is taken only where the ternary readers take fewer LUTs than the folded adder and its
//! binary readers did (a ternary adder has a LUT per bit from its second-lowest shift up, a
//! binary one only where both operands vary), and never with a constant addend, which a binary
//! adder absorbs almost for free (measured: folding the biases of jsc_openml_530 cost 21 LUTs).
//!
//! Expects: a module built by the [`crate::pipeline::Builder`], whose adders are sized by
//! interval analysis, so that no adder wraps (its result is the exact sum) and every `Ext` or
//! `Shl` between two adders preserves the value. Guarantees: the module computes the same
//! function; a reader absorbs at most one adder (three addends) with at most two of them
//! negated and every shift below its width; a folded adder has no other readers (no register,
//! port or other operation reads it or a value derived from it), so it becomes dead logic for
//! [`tachyon_rtl::prune`].

use tachyon_rtl::{Addend, Expr, Module, SignalId};

/// Readers (assigns) of each signal, the assign driving each, and whether a register or a port
/// reads it.
fn index(m: &Module) -> (Vec<Vec<usize>>, Vec<Option<usize>>, Vec<bool>) {
    let n = m.signals.len();
    let mut readers: Vec<Vec<usize>> = vec![vec![]; n];
    let mut driver: Vec<Option<usize>> = vec![None; n];
    for (i, a) in m.assigns.iter().enumerate() {
        driver[a.dst.index()] = Some(i);
        for s in a.expr.operands() {
            readers[s.index()].push(i);
        }
    }
    let mut pinned = vec![false; n];
    for r in &m.regs {
        pinned[r.d.index()] = true;
    }
    for &p in &m.ports {
        pinned[p.index()] = true;
    }
    (readers, driver, pinned)
}

/// One read of an adder's value by a binary adder: the reader's assign, which operand, and the
/// shift the aliases (`Shl`) between them apply.
struct Use {
    assign: usize,
    operand: usize,
    shift: u32,
}

/// Folds binary adders into the binary adders that read them (see the module docs).
pub fn fuse_ternary(m: &mut Module) {
    let (mut readers, driver, pinned) = index(m);
    let binary = |e: &Expr| matches!(e, Expr::Add(..) | Expr::Sub(..));
    // Candidates, widest first (a fold saves about one LUT per bit).
    let mut cands: Vec<usize> = (0..m.assigns.len()).filter(|&i| binary(&m.assigns[i].expr)).collect();
    cands.sort_by_key(|&i| (std::cmp::Reverse(m.signal(m.assigns[i].dst).width), i));
    // Assigns left without readers by a fold (the folded adder and the wires after it).
    let mut dead = vec![false; m.assigns.len()];
    for p in cands {
        if dead[p] {
            continue;
        }
        let Some((uses, wires)) = uses_of(m, &readers, &pinned, &dead, p) else { continue };
        // Every reader must still be binary, read the adder once and take the fold.
        let mut seen = std::collections::HashSet::new();
        let fused: Option<Vec<(usize, [Addend; 3])>> = uses
            .iter()
            .map(|u| {
                if !seen.insert(u.assign) {
                    return None;
                }
                fold(m, p, u).map(|e| (u.assign, e))
            })
            .collect();
        let Some(fused) = fused else { continue };
        // A constant addend (a bias) costs a binary adder almost nothing: no fold takes one.
        let constant = |s: SignalId| driver[s.index()].is_some_and(|i| matches!(m.assigns[i].expr, Expr::Const(_)));
        if fused.iter().any(|(_, t)| t.iter().any(|d| constant(d.sig))) {
            continue;
        }
        // Worth it only when the ternary readers take fewer LUTs than the adder and its readers
        // did: a ternary adder has a LUT per bit from its second-lowest shift up, a binary one
        // only where both operands vary.
        let before = binary_luts(m, &driver, p) + uses.iter().map(|u| binary_luts(m, &driver, u.assign)).sum::<u32>();
        // (A ternary adder: one LUT per bit from its second-lowest shift up.)
        let after: u32 = fused.iter().map(|(i, t)| m.signal(m.assigns[*i].dst).width - Addend::logic_start(t)).sum();
        if after >= before {
            continue;
        }
        for (i, t) in fused {
            // The reader now reads the folded adder's operands.
            for d in &t {
                if !readers[d.sig.index()].contains(&i) {
                    readers[d.sig.index()].push(i);
                }
            }
            m.assigns[i].expr = Expr::Add3(t);
        }
        dead[p] = true;
        for w in wires {
            dead[w] = true;
        }
    }
}

/// The binary adders reading the adder of assign `p` (through value-preserving `Ext` and `Shl`
/// wires) and those wires' assigns, or `None` when anything else reads it or the wires between.
fn uses_of(
    m: &Module,
    readers: &[Vec<usize>],
    pinned: &[bool],
    dead: &[bool],
    p: usize,
) -> Option<(Vec<Use>, Vec<usize>)> {
    let mut uses = vec![];
    let mut wires = vec![];
    let mut stack = vec![(m.assigns[p].dst, 0u32)];
    while let Some((s, shift)) = stack.pop() {
        let live: Vec<usize> = readers[s.index()].iter().copied().filter(|&r| !dead[r]).collect();
        if pinned[s.index()] || live.is_empty() {
            return None;
        }
        for r in live {
            let a = &m.assigns[r];
            match &a.expr {
                Expr::Add(x, y) | Expr::Sub(x, y) => {
                    if x == y {
                        return None;
                    }
                    uses.push(Use { assign: r, operand: usize::from(*y == s), shift });
                }
                Expr::Ext(_) if preserves(m, s, a.dst, 0) => {
                    wires.push(r);
                    stack.push((a.dst, shift));
                }
                Expr::Shl(_, k) if preserves(m, s, a.dst, *k) => {
                    wires.push(r);
                    stack.push((a.dst, shift + k));
                }
                _ => return None,
            }
        }
    }
    Some((uses, wires))
}

/// LUTs of the binary adder of assign `i`: the bits where both operands vary (a signed operand
/// up to the top, by its sign extension).
fn binary_luts(m: &Module, driver: &[Option<usize>], i: usize) -> u32 {
    let a = &m.assigns[i];
    let w = m.signal(a.dst).width;
    let (Expr::Add(x, y) | Expr::Sub(x, y)) = a.expr else { return 0 };
    let span = |s: SignalId| {
        let (src, shift) = resolve(m, driver, s);
        let src = m.signal(src);
        (shift.min(w), if src.signed { w } else { (src.width + shift).min(w) })
    };
    let ((xl, xh), (yl, yh)) = (span(x), span(y));
    xh.min(yh).saturating_sub(xl.max(yl))
}

/// The value-preserving `Ext` and `Shl` wires above `s`, followed to their source: `(source,
/// shift)` with `s = source · 2^shift`.
fn resolve(m: &Module, driver: &[Option<usize>], s: SignalId) -> (SignalId, u32) {
    let (mut s, mut shift) = (s, 0);
    while let Some(i) = driver[s.index()] {
        match m.assigns[i].expr {
            Expr::Ext(src) if preserves(m, src, s, 0) => s = src,
            Expr::Shl(src, k) if preserves(m, src, s, k) => {
                s = src;
                shift += k;
            }
            _ => break,
        }
    }
    (s, shift)
}

/// Whether `dst = src · 2^k` holds for every value of `src`'s type: `dst` holds `src`'s range
/// shifted, in its own signedness.
fn preserves(m: &Module, src: SignalId, dst: SignalId, k: u32) -> bool {
    let (s, d) = (m.signal(src), m.signal(dst));
    match (s.signed, d.signed) {
        (true, true) | (false, false) => d.width >= s.width + k,
        (false, true) => d.width > s.width + k,
        (true, false) => false,
    }
}

/// The addends of the reader of use `u` with the adder of assign `p` folded in: the adder's
/// operands (shifted by `u.shift`, with the reader's sign for that operand) and the reader's
/// other operand. `None` when the reader is no longer binary or the addends do not fit.
fn fold(m: &Module, p: usize, u: &Use) -> Option<[Addend; 3]> {
    let w = m.signal(m.assigns[u.assign].dst).width;
    let (x, y, sub) = match m.assigns[u.assign].expr {
        Expr::Add(x, y) => (x, y, false),
        Expr::Sub(x, y) => (x, y, true),
        _ => return None,
    };
    let (a, b, psub) = match m.assigns[p].expr {
        Expr::Add(a, b) => (a, b, false),
        Expr::Sub(a, b) => (a, b, true),
        _ => return None,
    };
    // The sign the reader gives the adder's value, and its other operand with that one's sign.
    let (neg, other, other_neg) = if u.operand == 0 { (false, y, sub) } else { (sub, x, false) };
    let t = [
        Addend { sig: a, shift: u.shift, neg },
        Addend { sig: b, shift: u.shift, neg: neg != psub },
        Addend { sig: other, shift: 0, neg: other_neg },
    ];
    let fits = t.iter().filter(|d| d.neg).count() <= 2 && t.iter().all(|d| d.shift < w);
    fits.then_some(t)
}

#[cfg(test)]
mod tests {
    use super::fuse_ternary;
    use tachyon_rtl::{Expr, Fabric, Module, Sim};

    /// `p = a + b` (both 10-bit signed; with `constant_b`, b = 9) read by `r1 = p + c` and by
    /// `r2 = (p << 1) − d`; outputs `r1`, `r2` (and `p` when `pinned`), each registered.
    fn fixture(pinned: bool, constant_b: bool) -> Module {
        let mut m = Module::new("fuse");
        m.fabric = Fabric::UltraScale;
        m.add_clock();
        let [a, c, d] = ["a", "c", "d"].map(|n| m.add_input(n, 10, true));
        let b = if constant_b { m.wire("k", 4, false, None, Expr::Const(9)) } else { m.add_input("b", 10, true) };
        let p = m.wire("p", 11, true, None, Expr::Add(a, b));
        let r1 = m.wire("r1", 12, true, None, Expr::Add(p, c));
        let sh = m.wire("sh", 12, true, None, Expr::Shl(p, 1));
        let r2 = m.wire("r2", 13, true, None, Expr::Sub(sh, d));
        let outs = if pinned { vec![("y1", r1), ("y2", r2), ("yp", p)] } else { vec![("y1", r1), ("y2", r2)] };
        for (name, r) in outs {
            let w = m.signal(r).width;
            let q = m.reg(&format!("{name}_q"), r, None, None);
            let o = m.add_output(name, w, true);
            m.assign(o, Expr::Ext(q));
        }
        tachyon_rtl::verify(&m).expect("fixture verifies");
        m
    }

    fn outputs(m: &Module, xs: &[i128]) -> Vec<i128> {
        let mut sim = Sim::new(m).expect("verifies");
        let ins: Vec<_> =
            m.ports.iter().copied().filter(|&p| m.signal(p).kind == tachyon_rtl::SignalKind::Input).collect();
        for (&p, &x) in ins.iter().filter(|&&p| m.signal(p).name != "clk").zip(xs) {
            sim.set_input(p, x);
        }
        sim.eval();
        sim.step();
        sim.eval();
        m.ports.iter().filter(|&&p| m.signal(p).kind == tachyon_rtl::SignalKind::Output).map(|&o| sim.get(o)).collect()
    }

    fn kinds(m: &Module) -> Vec<&'static str> {
        m.assigns.iter().map(|a| a.expr.mnemonic()).collect()
    }

    #[test]
    fn an_adder_read_only_by_adders_folds_into_them() {
        let m = fixture(false, false);
        let mut f = m.clone();
        fuse_ternary(&mut f);
        let f = tachyon_rtl::prune(f);
        tachyon_rtl::verify(&f).expect("the fused module verifies");
        let k = kinds(&f);
        assert_eq!(k.iter().filter(|&&k| k == "add3").count(), 2, "{k:?}");
        assert!(!k.contains(&"add") && !k.contains(&"sub"), "the folded adder is gone: {k:?}");
        for xs in [[-512, -512, -512, 511], [511, 511, 511, -512], [3, -7, 100, -250], [0, 0, 0, 0]] {
            assert_eq!(outputs(&f, &xs), outputs(&m, &xs), "{xs:?}");
        }
    }

    #[test]
    fn an_adder_a_register_reads_or_with_a_constant_stays() {
        for (pinned, constant) in [(true, false), (false, true)] {
            let m = fixture(pinned, constant);
            let mut f = m.clone();
            fuse_ternary(&mut f);
            assert_eq!(f, m, "pinned {pinned}, constant {constant}");
        }
    }
}
